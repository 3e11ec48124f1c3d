package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
)

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

// newLogger builds the process logger: JSON for machines, text when a person
// is watching a terminal (format "auto").
func newLogger(w io.Writer, format, level string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: logLevels[level]}
	if format == "text" || (format == "auto" && isTerminal(w)) {
		return slog.New(&deferredAttrs{next: slog.NewTextHandler(w, opts)})
	}
	return slog.New(&deferredAttrs{next: slog.NewJSONHandler(w, opts)})
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// deferredAttrs keeps the attributes of Logger.With until a record is
// written. slog's own handlers format them into a copy of the handler when
// With is called; every actor of every channel makes such a logger (its
// channel and actor name, fifteen per channel) and most of them never write
// a line, so the copies were idle memory, about 7 KB per channel. The output
// is the same: the attributes are formatted by the same handler, only later.
type deferredAttrs struct {
	next  slog.Handler
	attrs []slog.Attr
	// The handler with attrs formatted in, made by the first record
	// written, so a logger that writes formats its attributes once.
	once sync.Once
	res  slog.Handler
}

func (h *deferredAttrs) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *deferredAttrs) Handle(ctx context.Context, r slog.Record) error {
	return h.resolved().Handle(ctx, r)
}

func (h *deferredAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	// The handler owns attrs (slog.Handler's contract), so the first call
	// keeps the slice as given; later ones never write into a shared one.
	return &deferredAttrs{next: h.next, attrs: append(slices.Clip(h.attrs), attrs...)}
}

func (h *deferredAttrs) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	// A group qualifies the attributes added after it only, so those
	// collected so far are formatted now.
	return &deferredAttrs{next: h.resolved().WithGroup(name)}
}

func (h *deferredAttrs) resolved() slog.Handler {
	h.once.Do(func() {
		h.res = h.next
		if len(h.attrs) > 0 {
			h.res = h.next.WithAttrs(h.attrs)
		}
	})
	return h.res
}
