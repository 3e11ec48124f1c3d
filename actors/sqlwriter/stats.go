package sqlwriter

// Stats is what the writer shows about itself on the actor tree.
type Stats struct {
	Buffered  int    `json:"buffered"` // events in memory, not yet committed
	Spilled   int    `json:"spilled"`  // events in the spill file, not yet committed
	Written   int64  `json:"written"`  // rows inserted since the writer started
	Batches   int64  `json:"batches"`  // batches committed since the writer started
	LastError string `json:"last_error,omitempty"`
	DBUp      bool   `json:"db_up"`
	Waiting   int    `json:"requests_waiting"` // SQLRequests waiting for a free worker
}

// buffered counts the events and bytes held in memory: queued, or in a job
// that has not reported back.
func (w *writer) buffered() (int, int64) {
	n, bytes := len(w.pending), w.pendingBytes
	if j := w.inflight; j != nil && (j.kind == jobWriteMemory || j.kind == jobSpill) {
		n += len(j.recs)
		bytes += j.bytes
	}
	if j := w.overflowing; j != nil {
		n += len(j.recs)
		bytes += j.bytes
	}
	return n, bytes
}

// publish shows the writer's state on the tree and in the gauges; it runs
// after every message, so it only copies a few fields.
func (w *writer) publish() {
	buffered, bytes := w.buffered()
	w.sys.Tree().SetState(w.id, Stats{
		Buffered: buffered, Spilled: w.spill.lines + w.overflow.lines, Written: w.written, Batches: w.batches,
		LastError: w.lastErr, DBUp: w.dbUp, Waiting: len(w.waiting),
	})
	w.metrics.Buffered.Store(int64(buffered))
	w.metrics.BufferedBytes.Store(bytes)
	w.metrics.Spilled.Store(int64(w.spill.lines + w.overflow.lines))
	if j := w.inflight; j != nil && j.kind == jobWriteSpill {
		// The batch read back from the spill file is in memory too.
		bytes += min(j.maxBytes, j.spill.size-j.spill.pos)
	}
	w.cfg.Intake.hold(bytes)
}
