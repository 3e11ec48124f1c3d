package sqlwriter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/messages"
)

func (w *writer) start(ctx actor.Context) {
	w.self = ctx.Self()
	w.id = w.self.Id
	w.cfg.Intake.setLimit(w.cfg.MaxBufferedBytes)
	if w.cfg.SubscribeEvents {
		w.sys.Subscribe(ctx, func(m any) bool {
			_, ok := m.(*messages.Event)
			return ok
		})
	}

	spill := newSpillFile(w.cfg.DataDir, w.cfg.MaxSpillBytes)
	st, err := spill.open()
	if err != nil {
		// Appending to a file whose state is unknown could damage it, so it
		// is moved aside for a person to replay, and a new one is started.
		w.lastErr = err.Error()
		aside, moveErr := spill.moveAside(w.clk.Now())
		w.log.Error("CANNOT READ THE SPILL FILE left by an earlier run; moved it aside, its events are not replayed",
			slog.String("actor", w.id), slog.String("path", aside), slog.Any("error", err))
		if moveErr != nil {
			spill.disabled = true
			w.log.Error("cannot move the unreadable spill file aside; spilling is off, events stay in memory",
				slog.String("actor", w.id), slog.Any("error", moveErr))
		}
		st = spillState{}
	}
	if !spill.disabled {
		// An overflow file left by a crash holds newer events than the
		// spill file: it goes behind it.
		if merged, err := mergeOverflow(w.cfg.DataDir, st); err != nil {
			w.log.Error("CANNOT MERGE THE OVERFLOW FILE left by an earlier run into the spill file; it stays for the next start",
				slog.String("actor", w.id), slog.Any("error", err))
		} else {
			st = merged
		}
	}
	w.spill = st
	w.unsure = st.unsure
	if st.lines > 0 {
		w.log.Info("replaying events spilled by an earlier run",
			slog.String("actor", w.id), slog.Int("count", st.lines), slog.String("path", spill.path))
	}

	logPool, reqPool, err := w.openPools()
	if err != nil {
		w.dbUp, w.writesPaused = false, true
		w.lastErr = err.Error()
		w.log.Error("no database: every event will be spilled to disk until the writer is reconfigured",
			slog.String("actor", w.id), slog.Any("error", err))
	}
	w.resetPools = func() {
		if logPool != nil {
			logPool.Reset()
		}
		if reqPool != nil {
			reqPool.Reset()
		}
	}
	w.closePools = func() {
		if logPool != nil {
			logPool.Close()
		}
		if reqPool != nil {
			reqPool.Close()
		}
	}

	w.writeCtx, w.cancelWrites = context.WithCancel(context.Background())
	w.flusher = &flusher{db: &batchWriter{pool: logPool, timeout: w.cfg.WriteTimeout}, spill: spill, now: w.clk.Now,
		prepare: w.cfg.Prepare}
	if w.cfg.Prepare != nil && w.dbUp {
		// Not ready until the probe has prepared the database: requests
		// are answered unavailable and events wait, as in an outage.
		w.dbUp, w.writesPaused, w.retryDue = false, true, true
		w.lastErr = "database not prepared yet (migrations pending)"
	}
	w.jobs = make(chan *job, 1)
	w.flusherDone = make(chan struct{})
	self := w.self
	go func() {
		defer close(w.flusherDone)
		w.flusher.loop(w.writeCtx, w.jobs, func(j *job) { w.sys.Send(self, jobDone{j}) })
	}()

	w.startOverflow()
	w.warmUp = true
	w.requestCtx, w.cancelRequests = context.WithCancel(context.Background())
	w.runner = &requestRunner{pool: reqPool, cfg: w.cfg}
	w.requests = make(chan request, w.cfg.RequestQueue)
	for range w.cfg.RequestWorkers {
		w.workers.Add(1)
		go func() {
			defer w.workers.Done()
			for r := range w.requests {
				resp, down := w.runner.run(w.requestCtx, r.req)
				w.reply(r.replyTo, resp)
				if down {
					w.sys.Send(self, dbDown{resp.Err})
				}
				w.sys.Send(self, workerFree{})
			}
		}()
	}
}

// idleConnLifetime is how long a request connection may sit unused before
// the pool closes it.
const idleConnLifetime = 3 * time.Minute

// openPools opens two pools on the same database: one connection for the
// batch writer (which owns the staging table) and RequestWorkers for
// requests, so a request never waits for a batch.
func (w *writer) openPools() (logPool, reqPool *pgxpool.Pool, err error) {
	if w.cfg.DatabaseURL == "" {
		return nil, nil, errors.New("database URL is empty")
	}
	logCfg, err := pgxpool.ParseConfig(w.cfg.DatabaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("parse database URL: %w", err)
	}
	logCfg.MaxConns = 1
	logCfg.ConnConfig.ConnectTimeout = w.cfg.ConnectTimeout
	logCfg.AfterConnect = prepareLogConn
	// The batch connection runs a dozen fixed statements; pgx's default
	// caches (512 entries each) cost ~56 KB a connection for nothing.
	logCfg.ConnConfig.StatementCacheCapacity = 32
	logCfg.ConnConfig.DescriptionCacheCapacity = 32
	reqCfg := logCfg.Copy()
	reqCfg.MaxConns = int32(w.cfg.RequestWorkers)
	reqCfg.AfterConnect = nil
	// Plugins' statements: a few dozen distinct ones in all.
	reqCfg.ConnConfig.StatementCacheCapacity = 128
	reqCfg.ConnConfig.DescriptionCacheCapacity = 128
	// A busy channel keeps the request connections in use; a quiet one
	// needs none of them, so they are closed after a few idle minutes
	// instead of holding a backend each for pgx's default 30.
	reqCfg.MaxConnIdleTime = idleConnLifetime
	// Neither pool connects before its first use, so this does not block.
	if logPool, err = pgxpool.NewWithConfig(context.Background(), logCfg); err != nil {
		return nil, nil, fmt.Errorf("open batch pool: %w", err)
	}
	if reqPool, err = pgxpool.NewWithConfig(context.Background(), reqCfg); err != nil {
		logPool.Close()
		return nil, nil, fmt.Errorf("open request pool: %w", err)
	}
	return logPool, reqPool, nil
}

func (w *writer) request(ctx actor.Context, req *messages.SQLRequest) {
	if req == nil {
		return
	}
	replyTo := ctx.Sender()
	if replyTo == nil {
		w.log.Warn("SQL request without a sender: it runs, but nobody gets the answer",
			slog.String("actor", w.id), slog.Uint64("request", req.ID))
	}
	if w.stopped || !w.dbUp {
		var why error
		if w.lastErr != "" {
			why = errors.New(w.lastErr)
		}
		w.reply(replyTo, &messages.SQLResponse{ID: req.ID, Err: unavailable(req.ID, why)})
		return
	}
	// Requests beyond what the workers' channel holds wait here in order
	// rather than fail: a daemon starting many channels sends thousands of
	// start-up statements at once, and being early is no reason to refuse.
	w.waiting = append(w.waiting, request{req: req, replyTo: replyTo, queued: w.clk.Now()})
	w.feedRequests()
}

// feedRequests moves waiting requests to the workers while their channel has
// room. A request whose sender stopped waiting (its Patience ran out) is
// answered as unavailable instead of run; being early or behind a burst is
// never a reason by itself.
func (w *writer) feedRequests() {
	now := w.clk.Now()
	for len(w.waiting) > 0 {
		r := w.waiting[0]
		if r.req.Patience > 0 && now.Sub(r.queued) > r.req.Patience {
			w.reply(r.replyTo, &messages.SQLResponse{ID: r.req.ID,
				Err: unavailable(r.req.ID, fmt.Errorf("waited %s for a free connection; its sender stopped waiting",
					now.Sub(r.queued).Round(time.Millisecond)))})
		} else {
			select {
			case w.requests <- r:
			default:
				return
			}
		}
		w.waiting[0] = request{}
		w.waiting = w.waiting[1:]
	}
	w.waiting = nil // lets the emptied backing array go
}

// refuseWaiting answers every waiting request as unavailable: the database
// is down or the writer is stopping.
func (w *writer) refuseWaiting(why error) {
	for _, r := range w.waiting {
		w.reply(r.replyTo, &messages.SQLResponse{ID: r.req.ID, Err: unavailable(r.req.ID, why)})
	}
	w.waiting = nil
}

func (w *writer) reply(to *actor.PID, resp *messages.SQLResponse) {
	w.metrics.Requests.Add(1)
	if resp.Err != nil {
		w.metrics.RequestFailures.Add(1)
	}
	if to != nil {
		w.sys.Send(to, resp)
	}
}

// stop finishes the writer's work. On a graceful stop it writes everything
// it holds, spill file first, while the database answers and StopTimeout
// lasts; whatever is left is appended to the spill file for the next start.
// A restart (graceful false) only spills: the state of a writer that
// panicked is not worth another database round.
func (w *writer) stop(graceful bool) {
	if w.stopped || w.jobs == nil {
		return
	}
	w.stopped = true
	w.clearFlushTimer()
	if w.retryTimer != nil {
		w.retryTimer.Stop()
		w.retryTimer = nil
	}
	w.retryGen++

	// Queued requests are answered as unavailable rather than run.
	w.refuseWaiting(errors.New("the writer is stopping"))
	w.cancelRequests()
	close(w.requests)

	stopCtx, cancel := context.WithTimeout(context.Background(), w.cfg.StopTimeout)
	defer cancel()
	if j := w.inflight; j != nil {
		select {
		case <-j.done:
		case <-stopCtx.Done():
			w.cancelWrites()
			<-j.done
		}
		w.inflight = nil
		w.finished(j)
	}
	close(w.jobs)
	<-w.flusherDone
	w.stopOverflow()
	w.cancelWrites()

	if graceful && !w.writesPaused {
		w.drain(stopCtx)
	}
	w.spillRest()
	w.workers.Wait()
	w.closePools()
	w.publish()
}

// drain writes the spill file and memory, running jobs on this goroutine now
// that the flusher has exited.
func (w *writer) drain(ctx context.Context) {
	for ctx.Err() == nil && !w.writesPaused {
		j := w.takeForWrite(true)
		if j == nil {
			return
		}
		w.flusher.run(ctx, j)
		w.finished(j)
	}
}

func (w *writer) spillRest() {
	if len(w.pending) == 0 {
		return
	}
	j := w.takeForSpill()
	start := time.Now()
	if w.overflow.lines > 0 {
		// Memory is newer than the overflow file, so it goes behind it;
		// the next start merges both into the spill file in order.
		j.spillAfter, j.spillErr = w.overflowFile.appendRecords(j.recs, w.overflow, nil)
		if j.spillErr == nil {
			w.overflow = j.spillAfter
			w.log.Info("spilled unwritten events for the next start",
				slog.String("actor", w.id), slog.Int("count", len(j.recs)),
				slog.Int("spilled", w.spill.lines+w.overflow.lines), slog.Duration("took", time.Since(start)))
			return
		}
		w.requeue(j.recs)
		w.log.Error("EVENTS LOST: the database and the spill file both failed while stopping",
			slog.String("actor", w.id), slog.Int("lost", len(w.pending)), slog.Any("error", j.spillErr))
		return
	}
	w.flusher.run(context.Background(), j)
	w.finished(j)
	if j.spillErr != nil {
		w.log.Error("EVENTS LOST: the database and the spill file both failed while stopping",
			slog.String("actor", w.id), slog.Int("lost", len(w.pending)), slog.Any("error", j.spillErr))
		return
	}
	w.log.Info("spilled unwritten events for the next start",
		slog.String("actor", w.id), slog.Int("count", len(j.recs)),
		slog.Int("spilled", w.spill.lines), slog.String("took", time.Since(start).String()))
}
