package sqlwriter

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/messages"
)

// Props returns the Props of the SQL writer: it logs every *messages.Event it
// receives and answers every *messages.SQLRequest with a
// *messages.SQLResponse sent to the request's sender. Shut it down after
// everything that sends to it, so it can write out what it was given.
func Props(sys *actorkit.System, cfg Config) *actor.Props {
	return sys.Props("sqlwriter", func() actor.Actor { return newWriter(sys, cfg) })
}

// flushTick and retryTick are the writer's timers firing; gen tells a
// current timer from one that was replaced.
type (
	flushTick struct{ gen int }
	retryTick struct{ gen int }
)

type writer struct {
	sys     *actorkit.System
	cfg     Config
	clk     clock.Clock
	log     *slog.Logger
	metrics *Metrics
	self    *actor.PID
	id      string

	// Events not yet handed to a job, oldest first. Everything in the spill
	// file is older than everything here.
	pending      []record
	pendingBytes int64 // size of pending
	inflight     *job
	spill        spillState
	overflow     spillState // the overflow file: newer than spill, older than pending
	overflowing  *job       // an append to the overflow file in progress
	unsure       *pendingCommit

	dbUp         bool
	writesPaused bool // a write failed; only the retry timer starts the next
	warmUp       bool // connect before the first batch needs it
	retryDue     bool
	attempt      int
	retryTimer   clock.Timer
	retryGen     int
	flushDue     bool
	flushTimer   clock.Timer
	flushGen     int
	spillRetryAt time.Time
	spillFails   int
	lastErr      string
	written      int64
	batches      int64
	stopped      bool

	sanitizedSinceLog int
	lastSanitizedLog  time.Time

	flusher      *flusher
	jobs         chan *job
	flusherDone  chan struct{}
	writeCtx     context.Context
	cancelWrites context.CancelFunc

	overflowFile *spillFile
	overflowJobs chan *job
	overflowExit chan struct{}

	runner         *requestRunner
	requests       chan request
	waiting        []request // requests for which the workers' channel had no room, oldest first
	requestCtx     context.Context
	cancelRequests context.CancelFunc
	workers        sync.WaitGroup
	closePools     func()
	resetPools     func()
}

func newWriter(sys *actorkit.System, cfg Config) *writer {
	cfg = cfg.withDefaults()
	w := &writer{sys: sys, cfg: cfg, clk: cfg.Clock, log: cfg.Logger, metrics: cfg.Metrics, dbUp: true}
	if w.clk == nil {
		w.clk = sys.Clock()
	}
	if w.log == nil {
		w.log = sys.Logger()
	}
	if w.metrics == nil {
		w.metrics = &Metrics{}
	}
	return w
}

func (w *writer) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		w.start(ctx)
	case *messages.Event:
		if m == nil {
			return
		}
		w.accept(m)
		w.cfg.Intake.accepted(m)
	case *messages.SQLRequest:
		w.request(ctx, m)
	case workerFree:
		w.feedRequests()
	case jobDone:
		if m.job != w.inflight {
			return // already handled while stopping
		}
		w.inflight = nil
		w.finished(m.job)
	case overflowDone:
		w.overflowed(m.job)
	case flushTick:
		if m.gen != w.flushGen {
			return
		}
		w.flushTimer, w.flushDue = nil, true
	case retryTick:
		if m.gen != w.retryGen {
			return
		}
		w.retryTimer, w.retryDue = nil, true
	case dbDown:
		if !w.dbUp {
			return
		}
		w.failed(m.err, failDown)
	case *actor.Stopping:
		w.stop(true)
	case *actor.Restarting:
		// The replacement instance replays the spill file on Started.
		w.stop(false)
	default:
		return
	}
	w.kick()
	w.publish()
}

func (w *writer) accept(ev *messages.Event) {
	rec, sanitized := newRecord(ev, w.clk.Now())
	w.metrics.countEvent(rec.EventType)
	if sanitized {
		w.metrics.Sanitized.Add(1)
		w.noteSanitized(rec)
	}
	w.pending = append(w.pending, rec)
	w.pendingBytes += int64(rec.size())
	if w.flushTimer == nil && !w.flushDue {
		w.flushGen++
		gen := w.flushGen
		w.flushTimer = w.clk.AfterFunc(w.cfg.FlushInterval, func() { w.sys.Send(w.self, flushTick{gen}) })
	}
}

// noteSanitized logs repaired events at most once a second: a flood of
// hostile text must not become a flood of log lines.
func (w *writer) noteSanitized(rec record) {
	w.sanitizedSinceLog++
	now := w.clk.Now()
	if now.Sub(w.lastSanitizedLog) < time.Second {
		return
	}
	w.log.Warn("stored events with bytes PostgreSQL rejects replaced; originals kept in metadata",
		slog.String("actor", w.id), slog.String("channel", rec.Channel),
		slog.String("event", rec.EventType), slog.Int("count", w.sanitizedSinceLog))
	w.sanitizedSinceLog = 0
	w.lastSanitizedLog = now
}
