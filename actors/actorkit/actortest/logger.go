package actortest

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
)

// Logger returns a text logger that writes into the test's log until the
// test ends; lines logged later by goroutines still winding down are
// dropped instead of panicking the test binary.
func Logger(t testing.TB, level slog.Level) *slog.Logger {
	t.Helper()
	w := &testLog{t: t}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

func (l *testLog) stop() {
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
}
