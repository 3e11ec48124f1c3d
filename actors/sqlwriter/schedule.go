package sqlwriter

import "slices"

// kick hands the flusher its next job when it is idle.
func (w *writer) kick() {
	defer w.kickOverflow()
	if w.stopped || w.inflight != nil {
		return
	}
	j := w.nextJob()
	if j == nil {
		return
	}
	w.inflight = j
	w.jobs <- j // never blocks: the flusher is idle and the channel holds one
}

func (w *writer) nextJob() *job {
	if w.warmUp {
		// Connecting (and creating the staging table) now means the first
		// join burst does not pay for it, and a database that is down at
		// start is known before the first request waits on it.
		w.warmUp = false
		if w.spill.lines == 0 && !w.writesPaused {
			return &job{kind: jobPing, done: make(chan struct{})}
		}
	}
	if w.overBudget() && w.overflowing == nil && w.overflow.lines == 0 && !w.clk.Now().Before(w.spillRetryAt) {
		return w.takeForSpill()
	}
	if !w.writesPaused {
		return w.takeForWrite(false)
	}
	if !w.retryDue {
		return nil
	}
	w.retryDue = false
	if w.dbUp {
		// The database answers but a write failed: try the write again.
		if j := w.takeForWrite(true); j != nil {
			return j
		}
	}
	// Unreachable: a probe is cheaper than a batch sent to a dead server,
	// and once it answers the writes start at once.
	return &job{kind: jobPing, done: make(chan struct{})}
}

// overBudget tells whether the events in memory should go to the spill
// file: too many of them, or over a quarter of the byte budget. The rest
// is for the batch or append in progress and the mailbox, so the readers
// only wait on the Intake when the disk falls behind too; half the budget
// kept the heap at 40–50 MB live in BenchmarkBurstMemory, a quarter at ~30.
func (w *writer) overBudget() bool {
	return len(w.pending) > w.cfg.MaxBufferedEvents || w.pendingBytes > w.cfg.MaxBufferedBytes/4
}

// takeForWrite returns the next batch in order of arrival: the spill file
// first, then memory once a batch is full or has waited long enough (or at
// once when force is set).
func (w *writer) takeForWrite(force bool) *job {
	if w.spill.lines == 0 && w.overflow.lines > 0 && w.overflowing == nil {
		if err := w.adoptOverflow(); err != nil {
			w.failed(err, failOther)
			return nil
		}
	}
	if w.spill.lines > 0 {
		return &job{kind: jobWriteSpill, spill: w.spill, maxBatch: w.cfg.MaxBatch, maxBytes: w.cfg.BatchBytes,
			unsure: w.unsure, done: make(chan struct{})}
	}
	if w.overflowing != nil || w.overflow.lines > 0 {
		return nil // memory waits behind the overflow file
	}
	n := len(w.pending)
	if n == 0 || !force && n < w.cfg.BatchSize && w.pendingBytes < w.cfg.BatchBytes && !w.flushDue {
		return nil
	}
	take, bytes := 0, int64(0)
	for take < n && take < w.cfg.MaxBatch && (take == 0 || bytes+int64(w.pending[take].size()) <= w.cfg.BatchBytes) {
		bytes += int64(w.pending[take].size())
		take++
	}
	recs := w.pending[:take:take]
	w.pending = w.pending[take:]
	w.pendingBytes -= bytes
	if len(w.pending) == 0 {
		w.pending, w.pendingBytes = nil, 0
		w.clearFlushTimer()
	}
	return &job{kind: jobWriteMemory, recs: recs, bytes: bytes, unsure: w.unsure, done: make(chan struct{})}
}

func (w *writer) takeForSpill() *job {
	j := &job{kind: jobSpill, recs: w.pending, bytes: w.pendingBytes, spill: w.spill, unsure: w.unsure, done: make(chan struct{})}
	w.pending, w.pendingBytes = nil, 0
	w.clearFlushTimer()
	return j
}

func (w *writer) clearFlushTimer() {
	if w.flushTimer != nil {
		w.flushTimer.Stop()
		w.flushTimer = nil
	}
	w.flushGen++
	w.flushDue = false
}

// requeue puts records that were not stored back in front of the queue;
// they are older than anything that arrived meanwhile and already overdue.
func (w *writer) requeue(recs []record) {
	if len(recs) == 0 {
		return
	}
	for i := range recs {
		w.pendingBytes += int64(recs[i].size())
	}
	w.pending = slices.Concat(recs, w.pending)
	w.flushDue = true
}
