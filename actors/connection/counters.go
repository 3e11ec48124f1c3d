package connection

import "sync/atomic"

// Counters count what the reader saw on every socket of one connection. The
// reader only adds; anyone may read at any time.
type Counters struct {
	Frames        atomic.Int64 // websocket text frames read
	Events        atomic.Int64 // 42[...] events delivered to the sinks
	UnknownEvents atomic.Int64 // events without a typed body (RawEvent)
	DecodeErrors  atomic.Int64 // known events whose payload did not fit
	Malformed     atomic.Int64 // frames that could not be parsed at all
}
