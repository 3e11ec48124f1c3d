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
}

// DisabledPlugin records why a plugin was disabled.
type DisabledPlugin struct {
	ActorID  string
	Failures int
	Reason   string
	At       time.Time
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
	return &PluginStrategy{cfg: cfg, failures: map[string][]time.Time{}, disabled: map[string]DisabledPlugin{}}
}

// HandleFailure implements actor.SupervisorStrategy.
func (s *PluginStrategy) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason any, _ any) {
	now := s.cfg.Clock.Now()
	n, disable := s.recordFailure(child.Id, now, reason)
	log := s.cfg.Logger.With(slog.String("actor", child.Id), slog.Any("reason", reason), slog.Int("attempt", n))
	if disable {
		log.Error("plugin disabled after repeated failures",
			slog.Int("max_failures", s.cfg.MaxFailures), slog.String("window", s.cfg.Window.String()))
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
	return fmt.Sprintf("%d failures within %v; last: %s", d.Failures, s.cfg.Window, d.Reason), true
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
// normally again (an operator action; the plugin must then be restarted).
func (s *PluginStrategy) Enable(actorID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.disabled, actorID)
	delete(s.failures, actorID)
}
