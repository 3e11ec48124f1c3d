package supervision

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/daz-bot/daz/messages"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
)

// recordHandler keeps every record so a test can read its attributes.
type recordHandler struct {
	mu      *sync.Mutex
	records *[]slog.Record
	attrs   []slog.Attr
}

func newRecordHandler() *recordHandler {
	return &recordHandler{mu: &sync.Mutex{}, records: &[]slog.Record{}}
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.records = append(*h.records, r)
	return nil
}
func (h *recordHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	return &c
}
func (h *recordHandler) WithGroup(string) slog.Handler { return h }

func (h *recordHandler) find(msgPrefix string) []map[string]slog.Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]slog.Value
	for _, r := range *h.records {
		if len(r.Message) < len(msgPrefix) || r.Message[:len(msgPrefix)] != msgPrefix {
			continue
		}
		m := map[string]slog.Value{}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value; return true })
		out = append(out, m)
	}
	return out
}

// A failed attempt is logged once, under the number the connection used
// for it, with durations as text — also when a login in between reset the
// schedule (the count restarts, the attempt number must not jump back).
func TestFailedAttemptLogLine(t *testing.T) {
	t.Parallel()
	h := newRecordHandler()
	clk := clock.NewFake(epoch)
	sys := actorkit.NewSystem(nil, clk)
	s, err := NewConnectionStrategy(ConnectionStrategyConfig{
		Channel: "testchan", System: sys, Logger: slog.New(h), Rand: func() float64 { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	sup := &fakeSupervisor{}
	child := actor.NewPID("nonhost", "channel-testchan/connection")
	fail := func() {
		s.HandleFailure(nil, sup, child, nil, &messages.ConnectionFailure{Kind: messages.FailClosed, Text: "gone"}, nil)
	}

	if n := s.BeginAttempt().Number; n != 1 {
		t.Fatalf("first attempt number %d", n)
	}
	fail()
	clk.Advance(DefaultRetryConfig().Base)
	second := int64(s.BeginAttempt().Number)
	s.LoginConfirmed() // online on the second attempt; hours later the socket dies
	fail()
	clk.Advance(DefaultRetryConfig().Base)
	third := int64(s.BeginAttempt().Number)
	fail()

	lines := h.find("connection attempt failed")
	if len(lines) != 3 {
		t.Fatalf("%d failure lines for 3 failures", len(lines))
	}
	for i, want := range []int64{1, second, third} {
		l := lines[i]
		if got := l["attempt"].Int64(); got != want {
			t.Errorf("failure %d logged as attempt %d, the connection called it %d", i+1, got, want)
		}
		if l["delay"].Kind() != slog.KindString {
			t.Errorf("failure %d: delay is %s %v, want text like 2s", i+1, l["delay"].Kind(), l["delay"])
		}
		for k, v := range l {
			if v.Kind() == slog.KindDuration {
				t.Errorf("failure %d: %s logged as a duration (ns in JSON)", i+1, k)
			}
		}
		if l["kind"].String() != string(messages.FailClosed) || l["error"].String() == "" || l["channel"].String() != "testchan" {
			t.Errorf("failure %d lacks fields: %v", i+1, l)
		}
	}
}
