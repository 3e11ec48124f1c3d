// Package logmaint keeps the monthly partitions of daz_core_chat_log: at
// start and then every Interval it creates the partitions of this month and
// the next MonthsAhead (moving in any rows that had landed in the DEFAULT
// partition for them), and with a Retention set it detaches and drops every
// partition whose whole month is older than now − Retention. Never the
// DEFAULT partition, never a partition holding a row newer than that.
//
// Each round's transactions first take a PostgreSQL transaction advisory
// lock without waiting: of several daemons sharing the database one does the
// work, the others see the lock taken and skip the round. A round that fails
// (the database away, the schema not migrated yet, a lock not granted within
// LockTimeout) is tried again after RetryInterval, or as soon as the SQL
// writer publishes that the database is back.
//
// Messages: *messages.LogMaintenanceRun asks for a round now; the answer is
// a *messages.LogMaintenanceReport.
package logmaint

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/messages"
)

// Defaults of Config.
const (
	DefaultMonthsAhead   = 3
	DefaultInterval      = time.Hour
	DefaultRetryInterval = 5 * time.Minute
	DefaultLockTimeout   = 3 * time.Second
	roundTimeout         = 10 * time.Minute
)

// MinRetention is the shortest retention accepted: partitions are months,
// and a value like "30m" is far more likely a typo for months than a wish
// to keep half an hour of log.
const MinRetention = 31 * 24 * time.Hour

// Config configures the maintainer.
type Config struct {
	DatabaseURL string
	// Retention drops the months older than now − Retention; 0 keeps
	// everything.
	Retention     time.Duration
	MonthsAhead   int           // months created ahead of the current one (default 3)
	Interval      time.Duration // between rounds (default 1h)
	RetryInterval time.Duration // after a failed round (default 5m)
	LockTimeout   time.Duration // longest wait for a table lock (default 3s)
	Clock         clock.Clock
	Logger        *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MonthsAhead <= 0 {
		c.MonthsAhead = DefaultMonthsAhead
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = DefaultRetryInterval
	}
	if c.LockTimeout <= 0 {
		c.LockTimeout = DefaultLockTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Props builds the maintainer. The clock is the system's unless Config
// names one.
func Props(sys *actorkit.System, cfg Config) *actor.Props {
	cfg = cfg.withDefaults()
	if cfg.Clock == nil {
		cfg.Clock = sys.Clock()
	}
	return sys.Props("logmaint", func() actor.Actor { return &maint{sys: sys, cfg: cfg} })
}

// roundDue is the maintainer's timer firing; gen tells the current timer
// from one that was replaced.
type (
	roundDue  struct{ gen int }
	roundDone struct{ rep messages.LogMaintenanceReport }
)

type maint struct {
	sys    *actorkit.System
	cfg    Config
	log    *slog.Logger
	pool   *pgxpool.Pool
	ctx    context.Context
	cancel context.CancelFunc

	timer   clock.Timer
	gen     int
	running bool
	failed  bool         // the last round failed; a database coming back retries it
	waiters []*actor.PID // answered when the running round ends
	next    []*actor.PID // asked during a running round: answered after one more
}

func (m *maint) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		m.start(ctx)
	case *actor.Stopping:
		m.cancel()
		if m.timer != nil {
			m.timer.Stop()
		}
	case *actor.Stopped:
		if m.pool != nil {
			m.pool.Close()
		}
	case roundDue:
		if msg.gen == m.gen {
			m.begin(ctx)
		}
	case *messages.LogMaintenanceRun:
		if sender := ctx.Sender(); sender != nil {
			if m.running {
				m.next = append(m.next, sender)
			} else {
				m.waiters = append(m.waiters, sender)
			}
		}
		m.begin(ctx)
	case *messages.DatabaseState:
		if msg.Up && m.failed {
			m.begin(ctx)
		}
	case roundDone:
		m.finish(ctx, msg.rep)
	}
}

func (m *maint) start(ctx actor.Context) {
	m.log = m.cfg.Logger.With(slog.String("actor", ctx.Self().Id))
	m.ctx, m.cancel = context.WithCancel(context.Background())
	pcfg, err := pgxpool.ParseConfig(m.cfg.DatabaseURL)
	if err != nil {
		// The app validated the URL; a test may not have. Rounds then fail
		// and say so.
		m.log.Error("chat log maintenance has no database", slog.String("error", err.Error()))
	} else {
		pcfg.MaxConns = 1 // one round at a time
		// Rounds are hours apart: no backend held in between, and the
		// few statements a round runs need no big cache.
		pcfg.MaxConnIdleTime = time.Minute
		pcfg.ConnConfig.StatementCacheCapacity = 16
		pcfg.ConnConfig.DescriptionCacheCapacity = 16
		if m.pool, err = pgxpool.NewWithConfig(m.ctx, pcfg); err != nil {
			m.log.Error("chat log maintenance has no database", slog.String("error", err.Error()))
		}
	}
	m.sys.Subscribe(ctx, func(msg any) bool {
		_, ok := msg.(*messages.DatabaseState)
		return ok
	})
	m.begin(ctx)
}

// begin starts a round unless one is running; a request made meanwhile
// is served by the round after it.
func (m *maint) begin(ctx actor.Context) {
	if m.running {
		return
	}
	m.running = true
	m.gen++ // the round reschedules; a pending timer is stale
	if m.timer != nil {
		m.timer.Stop()
	}
	self, now, rctx := ctx.Self(), m.cfg.Clock.Now(), m.ctx
	mt := &maintainer{pool: m.pool, monthsAhead: m.cfg.MonthsAhead, retention: m.cfg.Retention,
		lockTimeout: m.cfg.LockTimeout, log: m.log}
	go func() {
		var rep messages.LogMaintenanceReport
		if mt.pool == nil {
			rep = messages.LogMaintenanceReport{At: now, Err: fmt.Errorf("no database pool")}
		} else {
			c, cancel := context.WithTimeout(rctx, roundTimeout)
			rep = mt.round(c, now)
			cancel()
		}
		m.sys.Send(self, roundDone{rep: rep})
	}()
}

func (m *maint) finish(ctx actor.Context, rep messages.LogMaintenanceReport) {
	m.running = false
	m.failed = rep.Err != nil
	delay := m.cfg.Interval
	if rep.Err != nil {
		delay = m.cfg.RetryInterval
		m.log.Warn("chat log maintenance failed; retrying later", slog.String("error", rep.Err.Error()),
			slog.Duration("retry_in", delay))
	} else if rep.Skipped {
		m.log.Debug("chat log maintenance skipped: another daemon holds the lock")
	}
	for _, w := range m.waiters {
		r := rep
		ctx.Send(w, &r)
	}
	m.waiters, m.next = m.next, nil
	m.timer = m.sys.SendAfter(delay, ctx.Self(), roundDue{gen: m.gen})
	if len(m.waiters) > 0 {
		m.begin(ctx)
	}
}
