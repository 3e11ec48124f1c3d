package sqlwriter

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// The overflow file takes events past the memory budget while the flusher
// is busy with a batch: a burst arrives much faster than one batch is
// written, so waiting for the flusher to spill would let memory grow by
// everything that arrives during that batch. Its lines are newer than the
// spill file's and older than memory; once the spill file is fully written
// the overflow file becomes the spill file (a rename), so the order of
// arrival is kept and nothing is written twice. A separate goroutine (the
// overflow writer) appends to it, so the flusher is never waited on.
const overflowName = "sqlwriter-overflow.jsonl"

// overflowDone is the overflow writer telling the actor an append finished.
type overflowDone struct{ job *job }

func newOverflowFile(dir string) *spillFile {
	// No position file: the overflow file is only ever appended to, then
	// adopted whole as the spill file.
	return &spillFile{path: filepath.Join(dir, overflowName), posPath: filepath.Join(dir, overflowName+".pos")}
}

// startOverflow starts the overflow writer goroutine.
func (w *writer) startOverflow() {
	w.overflowFile = newOverflowFile(w.cfg.DataDir)
	w.overflowJobs = make(chan *job, 1)
	w.overflowExit = make(chan struct{})
	self := w.self
	go func() {
		defer close(w.overflowExit)
		for j := range w.overflowJobs {
			j.spillAfter, j.spillErr = w.overflowFile.appendRecords(j.recs, j.spill, nil)
			close(j.done)
			w.sys.Send(self, overflowDone{j})
		}
	}()
}

// kickOverflow moves memory past the budget to the overflow file while the
// flusher is busy (or the overflow file already holds lines, which memory
// must stay behind).
func (w *writer) kickOverflow() {
	if w.stopped || w.overflowing != nil || w.unsure != nil || !w.overBudget() ||
		w.inflight == nil && w.overflow.lines == 0 || w.clk.Now().Before(w.spillRetryAt) {
		return
	}
	if c := w.cfg.MaxSpillBytes; c > 0 && w.spill.size+w.overflow.size+w.pendingBytes > c {
		return // the flusher's spill path reports the cap
	}
	j := &job{kind: jobSpill, recs: w.pending, bytes: w.pendingBytes, spill: w.overflow, done: make(chan struct{})}
	w.pending, w.pendingBytes = nil, 0
	w.clearFlushTimer()
	w.overflowing = j
	w.overflowJobs <- j // never blocks: the overflow writer is idle
}

func (w *writer) overflowed(j *job) {
	if j != w.overflowing {
		return
	}
	w.overflowing = nil
	if j.spillErr != nil {
		// Older than everything in memory, newer than the file: back in front.
		w.requeue(j.recs)
		w.spillFails++
		w.spillRetryAt = w.clk.Now().Add(w.backoff(w.spillFails))
		w.metrics.SpillFailures.Add(1)
		w.lastErr = j.spillErr.Error()
		w.log.Error("CANNOT SPILL EVENTS TO DISK: keeping them in memory beyond the limit",
			slog.String("actor", w.id), slog.Int("buffered", len(w.pending)), slog.Any("error", j.spillErr))
		return
	}
	w.overflow = j.spillAfter
	w.spillFails = 0
	w.metrics.SpillAppends.Add(1)
	w.log.Info("events past the memory budget written to disk until the database takes them",
		slog.String("actor", w.id), slog.Int("count", len(j.recs)), slog.Int("on_disk", w.spill.lines+w.overflow.lines))
}

// stopOverflow waits for the overflow writer's last append and ends it.
func (w *writer) stopOverflow() {
	if w.overflowJobs == nil {
		return
	}
	close(w.overflowJobs)
	<-w.overflowExit
	if j := w.overflowing; j != nil {
		w.overflowed(j)
	}
	w.overflowJobs = nil
}

// adoptOverflow makes the overflow file the spill file, or appends it to
// the spill file when that still holds lines. Only called while nobody else
// uses either file: the flusher is idle or gone and no overflow append runs.
func (w *writer) adoptOverflow() error {
	if w.overflow.lines == 0 {
		return nil
	}
	st, err := mergeOverflow(w.cfg.DataDir, w.spill)
	if err != nil {
		return err
	}
	w.spill, w.overflow = st, spillState{}
	return nil
}

// mergeOverflow moves an overflow file behind the spill file whose state is
// spill, and returns the spill file's new state. Used on start too, for an
// overflow file a crash left behind.
func mergeOverflow(dir string, spill spillState) (spillState, error) {
	sf, of := newSpillFile(dir, 0), newOverflowFile(dir)
	_, err := os.Stat(of.path)
	if errors.Is(err, os.ErrNotExist) {
		return spill, nil
	}
	if err != nil {
		return spill, fmt.Errorf("stat overflow file: %w", err)
	}
	if spill.lines == 0 {
		// Nothing older on disk: the overflow file becomes the spill file.
		if err := os.Remove(sf.posPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return spill, fmt.Errorf("remove spill position: %w", err)
		}
		if err := os.Rename(of.path, sf.path); err != nil {
			return spill, fmt.Errorf("adopt overflow file: %w", err)
		}
		syncDir(dir)
		return sf.open()
	}
	src, err := os.Open(of.path)
	if err != nil {
		return spill, fmt.Errorf("open overflow file: %w", err)
	}
	defer func() { _ = src.Close() }()
	dst, err := os.OpenFile(sf.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return spill, fmt.Errorf("open spill file: %w", err)
	}
	_, err = io.Copy(dst, src)
	if err == nil {
		err = dst.Sync()
	}
	if err != nil {
		_ = dst.Truncate(spill.size)
		_ = dst.Close()
		return spill, fmt.Errorf("append overflow file to spill file: %w", err)
	}
	if err := dst.Close(); err != nil {
		return spill, fmt.Errorf("close spill file: %w", err)
	}
	if err := os.Remove(of.path); err != nil {
		// The lines are in the spill file now; left in place they would be
		// replayed twice, so say so loudly.
		return spill, fmt.Errorf("remove merged overflow file: %w", err)
	}
	return sf.open()
}
