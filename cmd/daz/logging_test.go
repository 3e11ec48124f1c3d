package main

import (
	"bytes"
	"log/slog"
	"regexp"
	"testing"
)

// noTime drops the timestamp, the one field two loggers cannot share.
var noTime = regexp.MustCompile(`"time":"[^"]*",|time=\S+ `)

// TestDeferredAttrsWriteWhatSlogWrites logs through the daemon's logger and
// through the plain slog handler with the same With and WithGroup calls; the
// lines must be byte for byte the same.
func TestDeferredAttrsWriteWhatSlogWrites(t *testing.T) {
	tests := []struct {
		name string
		use  func(l *slog.Logger)
	}{
		{"no attributes", func(l *slog.Logger) { l.Info("hello", "k", 1) }},
		{"one With", func(l *slog.Logger) {
			l.With(slog.String("channel", "c"), slog.String("actor", "plugin/ping")).Warn("slow", "ms", 12)
		}},
		{"nested With", func(l *slog.Logger) {
			base := l.With("node", "n1")
			a := base.With("channel", "a")
			b := base.With("channel", "b")
			a.Error("first")
			b.Error("second", "x", true)
			base.Info("base")
		}},
		{"empty With", func(l *slog.Logger) { l.With().Info("same") }},
		{"group after With", func(l *slog.Logger) {
			l.With("channel", "c").WithGroup("req").With("id", 7).Info("grouped", "status", "ok")
		}},
		{"empty group", func(l *slog.Logger) { l.With("a", 1).WithGroup("").Info("flat") }},
		{"below the level", func(l *slog.Logger) { l.With("a", 1).Debug("hidden") }},
	}
	for _, format := range []string{"json", "text"} {
		for _, tc := range tests {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				var got, want bytes.Buffer
				tc.use(newLogger(&got, format, "info"))
				opts := &slog.HandlerOptions{Level: slog.LevelInfo}
				var plain slog.Handler = slog.NewJSONHandler(&want, opts)
				if format == "text" {
					plain = slog.NewTextHandler(&want, opts)
				}
				tc.use(slog.New(plain))
				g, w := noTime.ReplaceAllString(got.String(), ""), noTime.ReplaceAllString(want.String(), "")
				if g != w {
					t.Fatalf("daemon logger wrote\n%s\nslog wrote\n%s", g, w)
				}
			})
		}
	}
}
