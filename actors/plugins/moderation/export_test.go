package moderation

// For the external benchmarks.
var (
	BenchRuleSpecs = benchRuleSpecs
	RecordedChat   = recordedChat
)
