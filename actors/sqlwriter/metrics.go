package sqlwriter

import (
	"sync"
	"sync/atomic"
	"time"
)

// Metrics is the writer's counters for the metrics endpoint. Fields are read
// with Load from any goroutine; EventsByType is safe on a nil *Metrics. Set
// OnBatch before the writer starts to feed histograms. A writer given no
// Metrics keeps a private one.
type Metrics struct {
	EventsReceived  atomic.Int64 // events handed to the writer
	RowsWritten     atomic.Int64 // rows inserted into the chat log
	Duplicates      atomic.Int64 // replayed chat lines skipped by their dedup key
	Batches         atomic.Int64 // committed batches
	BatchRows       atomic.Int64 // rows offered in committed batches (sum of batch sizes)
	WriteNanos      atomic.Int64 // time spent in committed batches
	WriteFailures   atomic.Int64 // batch attempts that failed and will be retried
	Buffered        atomic.Int64 // events in memory, not yet committed
	BufferedBytes   atomic.Int64 // their approximate size
	Spilled         atomic.Int64 // events in the spill file, not yet committed
	SpillAppends    atomic.Int64 // fsync'ed appends to the spill file
	SpillFailures   atomic.Int64 // appends that failed (disk full, spill cap)
	OverLimit       atomic.Int64 // times events were kept in memory beyond MaxBufferedEvents
	Sanitized       atomic.Int64 // events whose text needed repair to be storable
	Quarantined     atomic.Int64 // rows PostgreSQL refused, stored in quarantined form
	Requests        atomic.Int64 // SQLRequests answered
	RequestFailures atomic.Int64 // SQLRequests answered with an error

	// OnBatch, if set, is called after each committed batch with its size
	// and how long it took.
	OnBatch func(rows int, took time.Duration)

	mu     sync.Mutex
	byType map[string]int64
}

// EventsByType returns a copy of the per-event-name counts.
func (m *Metrics) EventsByType() map[string]int64 {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int64, len(m.byType))
	for k, v := range m.byType {
		out[k] = v
	}
	return out
}

// maxEventTypes bounds the per-type map: event names come from the server,
// and a hostile one must not grow it without end.
const maxEventTypes = 512

// overflowType counts events whose name did not fit in the per-type map.
const overflowType = "(other)"

func (m *Metrics) countEvent(name string) {
	if m == nil {
		return
	}
	m.EventsReceived.Add(1)
	m.mu.Lock()
	if m.byType == nil {
		m.byType = make(map[string]int64)
	}
	if _, ok := m.byType[name]; !ok && len(m.byType) >= maxEventTypes {
		name = overflowType
	}
	m.byType[name]++
	m.mu.Unlock()
}

func (m *Metrics) batchWritten(offered int, inserted int64, took time.Duration) {
	if m == nil {
		return
	}
	m.Batches.Add(1)
	m.BatchRows.Add(int64(offered))
	m.RowsWritten.Add(inserted)
	m.WriteNanos.Add(int64(took))
	if m.OnBatch != nil {
		m.OnBatch(offered, took)
	}
}
