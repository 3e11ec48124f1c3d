package actorkit

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil {
			out = append(out, rec)
		}
	}
	return out
}

func TestPanicIsLoggedOnceWithStack(t *testing.T) {
	var logs syncBuffer
	sys := NewSystem(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), nil)
	var received, heard atomic.Int64
	pid, err := sys.Root().SpawnNamed(sys.Props("recorder", func() actor.Actor {
		return &recorder{sys: sys, received: &received, heard: &heard}
	}), "rec")
	if err != nil {
		t.Fatal(err)
	}
	sys.Send(pid, boom{})
	sys.Send(pid, ping{})
	actortest.CheckFor(t, 5*time.Second, "actor back after the panic", func() bool { return received.Load() == 1 })
	mentions, withStack := 0, 0
	for _, rec := range logs.lines() {
		if b, _ := json.Marshal(rec); strings.Contains(string(b), "boom on purpose") {
			mentions++
		}
		if st, ok := rec["stack"].(string); ok && strings.Contains(st, "goroutine") && rec["actor"] == "rec" {
			withStack++
		}
	}
	if withStack != 1 {
		t.Fatalf("%d log records carry the panic's stack, want exactly 1: %v", withStack, logs.lines())
	}
	if mentions != 1 {
		t.Fatalf("the panic is mentioned in %d records, want 1", mentions)
	}
}

func sysLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
