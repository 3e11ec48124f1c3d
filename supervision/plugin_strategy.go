package supervision

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/clock"
)

// PluginStrategyConfig tunes PluginStrategy; zero fields take the defaults.
type PluginStrategyConfig struct {
	Clock  clock.Clock
	Logger *slog.Logger
	// BaseDelay is the wait before the second restart within Window; it
	// doubles with each further failure up to MaxDelay. The first failure
	// restarts at once: a single bad message should cost nothing.
	BaseDelay time.Duration // default 200 ms
	MaxDelay  time.Duration // default 30 s
	// MaxFailures failures within Window disable the plugin.
	MaxFailures int           // default 5
	Window      time.Duration // default 1 min
	// QuietPeriod is how long a disabled plugin rests before it is given
	// another chance (its failures forgotten, restarted normally); it
	// doubles each time the same plugin is disabled again, up to
	// MaxQuietPeriod. A bug that a later message no longer triggers (a
	// poisoned row since deleted, a database since back) so heals itself
	// without an operator, while a plugin that keeps failing costs less and
	// less often.
	QuietPeriod    time.Duration // default 10 min
	MaxQuietPeriod time.Duration // default 6 h
}

// DisabledPlugin records why a plugin was disabled.
type DisabledPlugin struct {
	ActorID  string
	Failures int
	Reason   string
	At       time.Time
	Until    time.Time // when it is given another chance
}

// PluginStrategy supervises feature plugins. A plugin that fails is
// restarted with a growing delay (its mailbox stays suspended meanwhile, so
// nothing queued for it is lost); a plugin that fails MaxFailures times
// within Window is disabled: it is restarted one last time, sees through
// Disabled that it must stay inert, withdraws its commands and shows itself
// as disabled on the actor tree. It never escalates, so a broken plugin
// cannot take down its siblings (connection, EventFilter, other plugins).
//
// Failure times come from the injected clock rather than protoactor's
// RestartStatistics, which reads the wall clock.
type PluginStrategy struct {
	cfg      PluginStrategyConfig
	mu       sync.Mutex
	failures map[string][]time.Time
	disabled map[string]DisabledPlugin
	times    map[string]int // how often each plugin was disabled
	timers   map[string]clock.Timer
	closed   bool
}

var _ actor.SupervisorStrategy = (*PluginStrategy)(nil)

// NewPluginStrategy returns a strategy with cfg's settings.
func NewPluginStrategy(cfg PluginStrategyConfig) *PluginStrategy {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = 200 * time.Millisecond
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = 30 * time.Second
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	if cfg.QuietPeriod <= 0 {
		cfg.QuietPeriod = 10 * time.Minute
	}
	if cfg.MaxQuietPeriod < cfg.QuietPeriod {
		cfg.MaxQuietPeriod = max(cfg.QuietPeriod, 6*time.Hour)
	}
	return &PluginStrategy{cfg: cfg, failures: map[string][]time.Time{}, disabled: map[string]DisabledPlugin{},
		times: map[string]int{}, timers: map[string]clock.Timer{}}
}

// HandleFailure implements actor.SupervisorStrategy.
func (s *PluginStrategy) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason any, _ any) {
	now := s.cfg.Clock.Now()
	n, disable := s.recordFailure(child.Id, now, reason)
	log := s.cfg.Logger.With(slog.String("actor", child.Id), slog.Any("reason", reason), slog.Int("attempt", n))
	if disable {
		until := s.scheduleReenable(sup, child, now)
		log.Error("plugin disabled after repeated failures",
			slog.Int("max_failures", s.cfg.MaxFailures), slog.String("window", s.cfg.Window.String()),
			slog.Time("until", until))
		sup.RestartChildren(child) // the new incarnation stays inert
		return
	}
	delay := s.delay(n)
	log.Warn("restarting failed plugin", slog.String("delay", delay.String()))
	if delay == 0 {
		sup.RestartChildren(child)
		return
	}
	s.cfg.Clock.AfterFunc(delay, func() { sup.RestartChildren(child) })
}

// recordFailure notes one failure and reports how many fell within the
// window and whether the plugin must now be disabled.
func (s *PluginStrategy) recordFailure(id string, now time.Time, reason any) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.failures[id][:0]
	for _, t := range s.failures[id] {
		if now.Sub(t) < s.cfg.Window {
			kept = append(kept, t)
		}
	}
	kept = append(kept, now)
	s.failures[id] = kept
	n := len(kept)
	if _, already := s.disabled[id]; already {
		return n, true
	}
	if n >= s.cfg.MaxFailures {
		s.disabled[id] = DisabledPlugin{ActorID: id, Failures: n, Reason: fmt.Sprint(reason), At: now}
		return n, true
	}
	return n, false
}

// scheduleReenable gives a newly disabled plugin its next chance after the
// quiet period; a plugin already disabled (failing again while inert) keeps
// the chance it has.
func (s *PluginStrategy) scheduleReenable(sup actor.Supervisor, child *actor.PID, now time.Time) time.Time {
	id := child.Id
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.disabled[id]
	if _, pending := s.timers[id]; pending || s.closed {
		return d.Until
	}
	s.times[id]++
	quiet := clock.Backoff(s.cfg.QuietPeriod, s.cfg.MaxQuietPeriod, s.times[id])
	d.Until = now.Add(quiet)
	s.disabled[id] = d
	s.timers[id] = s.cfg.Clock.AfterFunc(quiet, func() {
		s.mu.Lock()
		delete(s.timers, id)
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return
		}
		s.Enable(id)
		s.cfg.Logger.Warn("plugin given another chance after its quiet period",
			slog.String("actor", id), slog.String("quiet_period", quiet.String()))
		sup.RestartChildren(child)
	})
	return d.Until
}

// Close cancels every pending re-enable; the channel calls it when it stops.
func (s *PluginStrategy) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for id, t := range s.timers {
		t.Stop()
		delete(s.timers, id)
	}
}

// delay is 0 for the first failure in the window, then BaseDelay doubling
// per failure, capped at MaxDelay.
func (s *PluginStrategy) delay(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	return clock.Backoff(s.cfg.BaseDelay, s.cfg.MaxDelay, n-1)
}

// Disabled reports whether the plugin actor with this id was disabled, and
// why. Plugins ask in Started (pluginkit does).
func (s *PluginStrategy) Disabled(actorID string) (reason string, disabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.disabled[actorID]
	if !ok {
		return "", false
	}
	reason = fmt.Sprintf("%d failures within %v; last: %s", d.Failures, s.cfg.Window, d.Reason)
	if !d.Until.IsZero() {
		reason += "; another chance at " + d.Until.UTC().Format(time.RFC3339)
	}
	return reason, true
}

// DisabledPlugins lists the disabled plugins.
func (s *PluginStrategy) DisabledPlugins() []DisabledPlugin {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DisabledPlugin, 0, len(s.disabled))
	for _, d := range s.disabled {
		out = append(out, d)
	}
	return out
}

// Enable forgets a plugin's failures so that its next restart runs it
// normally again; the quiet-period timer calls it before restarting the
// plugin.
func (s *PluginStrategy) Enable(actorID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.disabled, actorID)
	delete(s.failures, actorID)
}
