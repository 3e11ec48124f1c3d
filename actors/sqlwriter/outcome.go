package sqlwriter

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/messages"
)

// finished applies what a job did to the writer's state. A write that got
// only part of the way puts the rest back at the front of the queue.
func (w *writer) finished(j *job) {
	switch j.kind {
	case jobSpill:
		w.spilled(j)
	case jobWriteMemory:
		w.account(j.out)
		w.unsure = j.out.unsure
		w.putBack(j.recs[j.out.done:])
		w.settle(j.out)
	case jobWriteSpill:
		w.account(j.out)
		w.spill = j.spillAfter
		w.unsure = j.out.unsure
		if j.spillErr != nil {
			w.spillReplayFailed(j.spillErr)
			return
		}
		w.settle(j.out)
	case jobPing:
		w.settle(j.out)
	}
}

// putBack returns what a memory batch did not store. Events that arrived
// past the budget while it was out went to the overflow file, which is
// written before memory, so the batch's records cannot simply go back in
// front of memory: they go to the spill file, which is empty while a memory
// batch is out and is written before the overflow file. The flusher is idle
// here, so the append runs on the actor's goroutine.
func (w *writer) putBack(recs []record) {
	if len(recs) == 0 {
		return
	}
	if w.overflow.lines == 0 && w.overflowing == nil {
		w.requeue(recs)
		return
	}
	j := &job{kind: jobSpill, recs: recs, spill: w.spill, unsure: w.unsure, done: make(chan struct{})}
	for i := range recs {
		j.bytes += int64(recs[i].size())
	}
	w.flusher.run(context.Background(), j)
	w.spilled(j) // on failure, back in front of memory, loudly
}

func (w *writer) account(out writeOutcome) {
	if out.done == 0 {
		return
	}
	w.written += out.inserted
	w.batches++
	w.metrics.batchWritten(out.done, out.inserted, out.took)
	w.metrics.Duplicates.Add(int64(out.done-out.quarantined) - out.inserted)
	if out.quarantined > 0 {
		w.metrics.Quarantined.Add(int64(out.quarantined))
		w.log.Error("PostgreSQL refused rows; stored them in quarantined form",
			slog.String("actor", w.id), slog.Int("count", out.quarantined))
	}
}

func (w *writer) settle(out writeOutcome) {
	if out.err != nil {
		w.failed(out.err, out.kind)
		return
	}
	w.succeeded()
}

func (w *writer) spilled(j *job) {
	if j.spillErr != nil {
		w.requeue(j.recs)
		w.spillFails++
		w.spillRetryAt = w.clk.Now().Add(w.backoff(w.spillFails))
		w.metrics.SpillFailures.Add(1)
		w.metrics.OverLimit.Add(1)
		w.lastErr = j.spillErr.Error()
		w.log.Error("CANNOT SPILL EVENTS TO DISK: keeping them in memory beyond the limit",
			slog.String("actor", w.id), slog.Int("buffered", len(w.pending)),
			slog.Int("max_buffered_events", w.cfg.MaxBufferedEvents), slog.Any("error", j.spillErr))
		return
	}
	w.spill = j.spillAfter
	w.spillFails = 0
	w.metrics.SpillAppends.Add(1)
	w.log.Warn("events spilled to disk until the database takes them",
		slog.String("actor", w.id), slog.Int("count", len(j.recs)), slog.Int("spilled", w.spill.lines))
}

// spillReplayFailed handles a spill file that cannot be read or whose
// progress cannot be saved. The writes retry with backoff; the file is never
// skipped, because everything newer must wait behind it to keep the order.
func (w *writer) spillReplayFailed(err error) {
	w.metrics.SpillFailures.Add(1)
	if errors.Is(err, os.ErrNotExist) {
		w.log.Error("SPILL FILE DISAPPEARED: the events it held are lost",
			slog.String("actor", w.id), slog.Int("lost", w.spill.lines), slog.Any("error", err))
		w.spill = spillState{}
		return
	}
	w.failed(err, failOther)
}

func (w *writer) succeeded() {
	if w.writesPaused {
		w.log.Info("database writes resumed", slog.String("actor", w.id), slog.Int("attempt", w.attempt))
	}
	if !w.dbUp {
		w.sys.Publish(&messages.DatabaseState{Up: true, At: w.clk.Now()})
	}
	w.dbUp, w.writesPaused, w.retryDue, w.attempt = true, false, false, 0
	if w.retryTimer != nil {
		w.retryTimer.Stop()
		w.retryTimer = nil
	}
	w.retryGen++
}

func (w *writer) failed(err error, kind failureKind) {
	w.lastErr = err.Error()
	w.metrics.WriteFailures.Add(1)
	w.writesPaused = true
	w.attempt++
	if kind == failDown {
		if w.dbUp {
			w.log.Warn("database unreachable; buffering events and answering requests as unavailable",
				slog.String("actor", w.id), slog.Any("error", err))
			w.sys.Publish(&messages.DatabaseState{Up: false, At: w.clk.Now(), Err: err.Error()})
		}
		w.dbUp = false
		w.refuseWaiting(err)
		// Idle connections opened before the outage are most likely dead
		// too; without this the first requests after recovery fail on them.
		w.resetPools()
	} else {
		w.log.Error("writing the chat log failed; retrying",
			slog.String("actor", w.id), slog.Int("attempt", w.attempt), slog.Any("error", err))
	}
	if w.stopped {
		return
	}
	if w.retryTimer != nil {
		w.retryTimer.Stop()
	}
	w.retryGen++
	gen := w.retryGen
	w.retryDue = false
	w.retryTimer = w.clk.AfterFunc(w.backoff(w.attempt), func() { w.sys.Send(w.self, retryTick{gen}) })
}

// backoff doubles from RetryBase up to RetryMax.
func (w *writer) backoff(attempt int) time.Duration {
	return clock.Backoff(w.cfg.RetryBase, w.cfg.RetryMax, attempt)
}
