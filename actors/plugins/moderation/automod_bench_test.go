package moderation

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
	"github.com/daz-bot/daz/messages"
)

// benchRuleSpecs are 200 rules of every kind (kind, pattern, action,
// duration), none of which the recorded chat trips, so every line pays for
// every rule.
func benchRuleSpecs() [][4]string {
	var specs [][4]string
	for i := range 80 {
		specs = append(specs, [4]string{KindWord, fmt.Sprintf("badword%d,slur%d,spamword%d", i, i, i), "warn", ""})
	}
	for i := range 40 {
		specs = append(specs, [4]string{KindRegex, fmt.Sprintf(`(?i)free\s+nitro%d|crypto%d\s*giveaway`, i, i), "kick", ""})
	}
	for i := range 30 {
		specs = append(specs, [4]string{KindLink, fmt.Sprintf("spam%d.example,phish%d.test", i, i), "tempban", "1h"})
	}
	for i := range 20 {
		specs = append(specs, [4]string{KindCaps, fmt.Sprintf("%d%%/%d", 80+i%20, 20+i), "warn", ""})
	}
	for i := range 15 {
		specs = append(specs, [4]string{KindRepeat, fmt.Sprintf("%d/30s", 20+i), "mute", "5m"})
	}
	for i := range 15 {
		specs = append(specs, [4]string{KindFlood, fmt.Sprintf("%d/10s", 60+i), "mute", "5m"})
	}
	return specs
}

func benchRules(b *testing.B) []*Rule {
	b.Helper()
	var rules []*Rule
	for _, s := range benchRuleSpecs() {
		r, err := ParseRule(s[0], s[1], s[2], s[3])
		if err != nil {
			b.Fatalf("%v: %v", s, err)
		}
		r.ID = int64(len(rules) + 1)
		rules = append(rules, r)
	}
	return rules
}

// recordedChat is the plain text and author of every chat line of the big
// channel recording.
func recordedChat(b testing.TB) []*messages.ChatMsg {
	b.Helper()
	var out []*messages.ChatMsg
	for _, l := range transcript.ByConn(transcript.MustLoad(b, "big_channel"), "bot") {
		if l.Dir != transcript.DirIn {
			continue
		}
		p, err := frame.Parse([]byte(l.Frame))
		if err != nil || p.Type != frame.TypeEvent || p.Name != "chatMsg" {
			continue
		}
		ev, _ := frame.EventFromPacket("bigchan", 1, time.Now(), &p)
		if c, ok := ev.Body.(*messages.ChatMsg); ok && c.Username != serverName {
			out = append(out, c)
		}
	}
	if len(out) < 100 {
		b.Fatalf("only %d chat lines in the recording", len(out))
	}
	return out
}

// BenchmarkAutomod runs the recorded chat through 200 rules of all kinds
// and reports the 99th percentile of the time per line (goal: ≤ 20 µs).
func BenchmarkAutomod(b *testing.B) {
	rules := benchRules(b)
	lines := recordedChat(b)
	fake := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	a := newAutomod(fake)
	a.setRules(rules)
	// Every iteration runs the whole recording, so the percentiles are
	// over hundreds of lines even at -benchtime 1x (make bench's default).
	took := make([]time.Duration, 0, b.N*len(lines))
	// One untimed pass first: the first lines of a fresh automod fill its
	// per-user histories and caches, which a running daemon did long ago.
	for _, c := range lines {
		fake.Advance(130 * time.Millisecond)
		a.check(c.Username, 0, c.Text)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, c := range lines {
			fake.Advance(130 * time.Millisecond) // the recording's ~7.7 lines/s
			start := time.Now()
			if h := a.check(c.Username, 0, c.Text); h != nil {
				b.Fatalf("line %q tripped rule %v", c.Text, h.rule)
			}
			took = append(took, time.Since(start))
		}
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds()), "p99-ns/line")
	b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns/line")
}
