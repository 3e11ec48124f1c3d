package sqlwriter

import (
	"context"
	"fmt"
	"time"
)

// jobKind is one kind of storage work. The flusher runs one job at a time,
// which is what keeps rows in order of arrival: the actor only hands out the
// next job once the previous one reported back.
type jobKind int

const (
	jobWriteMemory jobKind = iota // write job.recs
	jobWriteSpill                 // read the next lines of the spill file and write them
	jobSpill                      // append job.recs to the spill file
	jobPing                       // check the database is back
)

func (k jobKind) String() string {
	switch k {
	case jobWriteMemory:
		return "write"
	case jobWriteSpill:
		return "replay spill"
	case jobSpill:
		return "spill"
	case jobPing:
		return "ping"
	}
	return fmt.Sprintf("job(%d)", int(k))
}

// job is one unit of work and, once done is closed, its result.
type job struct {
	kind     jobKind
	recs     []record       // jobWriteMemory, jobSpill
	bytes    int64          // size of recs
	unsure   *pendingCommit // a commit of the records about to be written may have happened
	spill    spillState     // state of the spill file when the job was made
	maxBatch int
	maxBytes int64

	done chan struct{}

	// Results, valid after done is closed.
	out        writeOutcome
	read       int        // jobWriteSpill: lines read
	spillAfter spillState // jobWriteSpill, jobSpill
	spillErr   error      // the spill file could not be read, appended or committed
}

// jobDone is the flusher telling the actor a job finished.
type jobDone struct{ job *job }

// flusher owns the batch writer's pool and the spill file while the writer
// runs. run is also called directly by the actor once the flusher goroutine
// has exited, to finish the work on stop.
type flusher struct {
	db      *batchWriter
	spill   *spillFile
	now     func() time.Time
	prepare func(context.Context) error // nil once done (Config.Prepare)
}

func (f *flusher) loop(ctx context.Context, jobs <-chan *job, report func(*job)) {
	for j := range jobs {
		f.run(ctx, j)
		close(j.done)
		report(j)
	}
}

func (f *flusher) run(ctx context.Context, j *job) {
	switch j.kind {
	case jobWriteMemory:
		j.out = f.db.write(ctx, j.recs, j.unsure)
	case jobWriteSpill:
		f.replaySpill(ctx, j)
	case jobSpill:
		j.spillAfter, j.spillErr = f.spill.appendRecords(j.recs, j.spill, j.unsure)
	case jobPing:
		err := f.db.ping(ctx)
		if err == nil && f.prepare != nil {
			if err = f.prepare(ctx); err == nil {
				f.prepare = nil
			} else {
				err = fmt.Errorf("prepare the database: %w", err)
			}
		}
		if err != nil {
			j.out = writeOutcome{err: err, kind: classify(err)}
		}
	}
}

func (f *flusher) replaySpill(ctx context.Context, j *job) {
	j.spillAfter = j.spill
	recs, ends, err := f.spill.read(j.spill, j.maxBatch, j.maxBytes, f.now())
	if err != nil {
		j.spillErr = err
		return
	}
	j.read = len(recs)
	if len(recs) == 0 {
		// The count said there were lines but the file ends: trust the file.
		j.spillAfter, j.spillErr = f.spill.commit(j.spill, j.spill.size, j.spill.lines, nil)
		return
	}
	j.out = f.db.write(ctx, recs, j.unsure)
	if j.out.done > 0 {
		j.spillAfter, j.spillErr = f.spill.commit(j.spill, ends[j.out.done-1], j.out.done, j.out.unsure)
	} else if !sameCommit(j.out.unsure, j.spill.unsure) {
		j.spillAfter, j.spillErr = f.spill.commit(j.spill, j.spill.pos, 0, j.out.unsure)
	}
}
