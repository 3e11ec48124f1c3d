package sqlwriter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/clock"
)

// Config tunes the writer. Zero values take the defaults below.
type Config struct {
	// DatabaseURL is the PostgreSQL URL (postgres://...).
	DatabaseURL string
	// DataDir holds the spill file used while the database is unreachable.
	DataDir string
	// SubscribeEvents makes the writer take every *messages.Event from the
	// EventStream itself; leave it off when events are sent to it directly.
	SubscribeEvents bool

	// BatchSize queued events start a flush at once (default 500).
	BatchSize int
	// MaxBatch bounds the rows written in one transaction (default 4*BatchSize):
	// a backlog is written in few large batches instead of many small ones.
	MaxBatch int
	// BatchBytes of queued events also start a flush at once and bound one
	// batch (default 16 MiB; a bigger event is written alone), so a flood of
	// huge frames does not make one giant transaction. Smaller values only
	// added transactions in the benchmarks.
	BatchBytes int64
	// FlushInterval is the longest an event waits for a batch to fill
	// (default 10ms).
	FlushInterval time.Duration

	// MaxBufferedEvents is how many events are kept in memory while they
	// cannot be written before they are appended to the spill file
	// (default 50 000).
	MaxBufferedEvents int
	// MaxBufferedBytes bounds the same memory in bytes (default 32 MiB),
	// the mailbox included when the senders use Intake: past a quarter of
	// it the queue goes to the spill file, so a burst the database cannot
	// keep up with does not grow the process.
	MaxBufferedBytes int64
	// Intake, when set, is the gauge the connections' readers wait on
	// before they send an event (see Intake); the writer releases each
	// event it accepts.
	Intake *Intake
	// MaxSpillBytes caps the spill file (0: only the disk limits it). Past
	// the cap events stay in memory and the writer logs and counts it.
	MaxSpillBytes int64

	// RetryBase and RetryMax bound the exponential backoff between attempts
	// to reach the database (defaults 250ms and 750ms): while it is down the
	// writer only probes it (a connect and a ping), so a probe a second costs
	// it little and writing resumes within a second of its return.
	RetryBase time.Duration
	RetryMax  time.Duration

	// RequestWorkers is how many SQLRequests run at once (default 4); each
	// has its own connection, apart from the batch writer's.
	RequestWorkers int
	// RequestQueue is how many SQLRequests the workers' channel holds
	// (default 256); more wait in order in the actor, so a burst of requests
	// is never refused for being early.
	RequestQueue int
	// RequestTimeout bounds one SQLRequest (default 5s), and also how long
	// one may wait for a worker before it is answered as unavailable.
	RequestTimeout time.Duration
	// WriteTimeout bounds writing one batch (default 30s).
	WriteTimeout time.Duration
	// ConnectTimeout bounds opening one connection (default 3s).
	ConnectTimeout time.Duration
	// StopTimeout bounds the final flush when the writer stops (default 8s,
	// inside protoactor's 10s stop future); what is not written by then is
	// spilled.
	StopTimeout time.Duration

	// Prepare, when set, readies the database before the first write: the
	// writer starts with writes paused, and its probe runs Prepare once the
	// database answers, until it succeeds once. The daemon passes the
	// migrations here when it could not apply them at start-up, so the
	// probe that waits for the database also brings the schema up, and no
	// row is written before the table exists.
	Prepare func(ctx context.Context) error

	// Clock drives flush and retry timers (default: the system's clock).
	Clock clock.Clock
	// Logger gets the writer's log lines (default: the system's logger).
	Logger *slog.Logger
	// Metrics receives the writer's counters; nil keeps none.
	Metrics *Metrics
}

// Default values of Config.
const (
	DefaultBatchSize         = 500
	DefaultBatchBytes        = 16 << 20
	DefaultFlushInterval     = 10 * time.Millisecond
	DefaultMaxBufferedEvents = 50_000
	DefaultMaxBufferedBytes  = 32 << 20
	DefaultRetryBase         = 250 * time.Millisecond
	DefaultRetryMax          = 750 * time.Millisecond
	DefaultRequestWorkers    = 4
	DefaultRequestQueue      = 256
	DefaultRequestTimeout    = 5 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultConnectTimeout    = 3 * time.Second
	DefaultStopTimeout       = 8 * time.Second
)

// SoftMemoryLimit is the Go memory limit (runtime/debug.SetMemoryLimit)
// that suits a process whose writer has this byte budget: the budget plus
// half of it for everything else (decoding, plugins, the runtime). Without
// a limit the collector lets the heap grow to twice what is live, so a
// burst that fills the budget peaks at over 100 MB; with it the heap is
// collected before it passes the limit (BenchmarkBurstMemory: 48 MiB keeps
// a 100 000-line burst under 64 MB, 40 MiB already costs throughput).
func SoftMemoryLimit(maxBufferedBytes int64) int64 {
	if maxBufferedBytes <= 0 {
		maxBufferedBytes = DefaultMaxBufferedBytes
	}
	return maxBufferedBytes + maxBufferedBytes/2
}

// withDefaults fills every zero field.
func (c Config) withDefaults() Config {
	setInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	setInt(&c.BatchSize, DefaultBatchSize)
	setInt(&c.MaxBatch, 4*c.BatchSize)
	if c.MaxBatch < c.BatchSize {
		c.MaxBatch = c.BatchSize
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	setInt(&c.MaxBufferedEvents, DefaultMaxBufferedEvents)
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	setInt(&c.RequestWorkers, DefaultRequestWorkers)
	setInt(&c.RequestQueue, DefaultRequestQueue)
	setDur(&c.FlushInterval, DefaultFlushInterval)
	setDur(&c.RetryBase, DefaultRetryBase)
	setDur(&c.RetryMax, DefaultRetryMax)
	if c.RetryMax < c.RetryBase {
		c.RetryMax = c.RetryBase
	}
	setDur(&c.RequestTimeout, DefaultRequestTimeout)
	setDur(&c.WriteTimeout, DefaultWriteTimeout)
	setDur(&c.ConnectTimeout, DefaultConnectTimeout)
	setDur(&c.StopTimeout, DefaultStopTimeout)
	return c
}

// Validate reports a configuration the writer could only run degraded with:
// without a parseable database URL every event ends up in the spill file,
// and without a data directory nothing can be spilled.
func (c Config) Validate() error {
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("database URL is empty"))
	} else if _, err := pgxpool.ParseConfig(c.DatabaseURL); err != nil {
		errs = append(errs, fmt.Errorf("database URL: %w", err))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory for the spill file is empty"))
	}
	if c.MaxSpillBytes < 0 {
		errs = append(errs, fmt.Errorf("max spill bytes %d is negative", c.MaxSpillBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlwriter config: %w", err)
	}
	return nil
}
