package supervision

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/messages"
)

// ConnectionStrategyConfig configures one channel's ConnectionStrategy.
type ConnectionStrategyConfig struct {
	Channel string
	Retry   RetryConfig // zero value: DefaultRetryConfig()
	System  *actorkit.System
	Clock   clock.Clock // default: System.Clock()
	Logger  *slog.Logger
	Store   RetryStore // nil: nothing is persisted
	// Rand returns a number in [0,1) for the jitter; default math/rand/v2.
	Rand func() float64
	// ChildName is the name of the supervised connection child.
	ChildName string // default "connection"
	// Others supervises the channel actor's other children; the default,
	// actorkit.RestartStrategy, restarts at once and delays repeated failures.
	Others actor.SupervisorStrategy
	// Credentials is CredentialsFingerprint of what the channel connects
	// with; Restore compares it with the persisted one.
	Credentials string
}

// ConnectionStrategy supervises a channel actor's connection child. Every
// failed connection attempt arrives here as a failure; the strategy decides
// by the failure's kind whether and when the next attempt starts, and never
// blocks: waits are clock timers that restart the child later, and the
// child stays suspended meanwhile.
//
// One instance belongs to one channel actor (its Props' supervisor). It
// also implements AttemptSource, so the connection it supervises
// knows its attempt number and, after a daemon restart, waits out a
// persisted cooldown before connecting.
type ConnectionStrategy struct {
	channel string
	retry   RetryConfig
	sys     *actorkit.System
	clock   clock.Clock
	log     *slog.Logger
	store   RetryStore
	rand    func() float64
	child   string
	others  actor.SupervisorStrategy
	creds   string

	mu            sync.Mutex
	count         int       // consecutive failures in this round
	cooldownUntil time.Time // set while a round's cooldown runs
	notBefore     time.Time // no attempt may start before this
	waitState     messages.ConnState
	lastAttempt   time.Time
	lastError     string
	current       int // number of the attempt running now (0: none)
	stopped       string
	timer         clock.Timer
	closed        bool
	status        messages.ConnectionState
	logins        int // LoginConfirmed calls
}

var (
	_ actor.SupervisorStrategy = (*ConnectionStrategy)(nil)
	_ AttemptSource            = (*ConnectionStrategy)(nil)
)

// NewConnectionStrategy checks cfg and returns the strategy.
func NewConnectionStrategy(cfg ConnectionStrategyConfig) (*ConnectionStrategy, error) {
	if cfg.System == nil {
		return nil, errors.New("connection strategy: no actor system")
	}
	if cfg.Channel == "" {
		return nil, errors.New("connection strategy: no channel")
	}
	if cfg.Retry == (RetryConfig{}) {
		cfg.Retry = DefaultRetryConfig()
	}
	if err := cfg.Retry.Validate(); err != nil {
		return nil, fmt.Errorf("connection strategy for %q: %w", cfg.Channel, err)
	}
	if cfg.Clock == nil {
		cfg.Clock = cfg.System.Clock()
	}
	if cfg.Logger == nil {
		cfg.Logger = cfg.System.Logger()
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.ChildName == "" {
		cfg.ChildName = "connection"
	}
	log := cfg.Logger.With(slog.String("channel", cfg.Channel))
	if cfg.Others == nil {
		cfg.Others = actorkit.RestartStrategy{Clock: cfg.Clock, Logger: log}
	}
	return &ConnectionStrategy{
		channel: cfg.Channel, retry: cfg.Retry, sys: cfg.System, clock: cfg.Clock, log: log,
		store: cfg.Store, rand: cfg.Rand, child: cfg.ChildName, others: cfg.Others, creds: cfg.Credentials,
	}, nil
}

// decision is what the policy made of one failure.
type decision struct {
	stop  bool
	delay time.Duration
	state messages.ConnectionState
	saved RetryState
}

// HandleFailure implements actor.SupervisorStrategy. It runs on the channel
// actor's goroutine and returns at once.
func (s *ConnectionStrategy) HandleFailure(as *actor.ActorSystem, sup actor.Supervisor, child *actor.PID,
	rs *actor.RestartStatistics, reason, message any) {
	if !strings.HasSuffix(child.Id, "/"+s.child) {
		s.others.HandleFailure(as, sup, child, rs, reason, message)
		return
	}
	f := asFailure(reason)
	now := s.clock.Now()

	s.mu.Lock()
	d := s.decideLocked(f, now)
	s.status = d.state
	s.mu.Unlock()

	s.save(d.saved)
	// The restart is scheduled before the state is announced, so whoever
	// reacts to "backing off until T" finds the timer for T in place.
	// This is the one log line of a failed attempt (the connection logs
	// none), so it carries everything an operator needs.
	if d.stop {
		s.log.Error("connection attempt failed; stopped, not reconnecting to this channel",
			slog.String("actor", child.Id), slog.Int("attempt", d.state.Attempt),
			slog.String("kind", string(f.Kind)), slog.String("error", f.Error()),
			slog.String("reason", d.state.Reason))
		sup.StopChildren(child)
	} else {
		s.log.Warn("connection attempt failed; retrying later",
			slog.String("actor", child.Id), slog.Int("attempt", d.state.Attempt),
			slog.String("kind", string(f.Kind)), slog.String("error", f.Error()),
			slog.String("state", string(d.state.State)),
			slog.String("delay", d.delay.Round(time.Millisecond).String()), slog.Time("until", d.state.Until))
		s.restartAt(d.state.Until, sup, child)
	}
	s.sys.Tree().SetState(child.Id, d.state)
	s.sys.Publish(&d.state)
}

// decideLocked applies the kick and error policy to one failure.
func (s *ConnectionStrategy) decideLocked(f *messages.ConnectionFailure, now time.Time) decision {
	s.lastError = f.Error()
	// The failed attempt keeps the number the connection logged for it; a
	// login in between reset the count, so count+1 could differ.
	attempt := s.current
	if attempt == 0 {
		attempt = s.count + 1
	}
	s.current = 0
	st := messages.ConnectionState{Channel: s.channel, Attempt: attempt, LastError: s.lastError, At: now}
	var d decision
	switch f.Kind {
	case messages.FailBanned, messages.FailBadCredentials, messages.FailInvalidChannel,
		messages.FailNeedPassword, messages.FailConfig:
		// Retrying cannot help and cytu.be throttles logins: wait for a human.
		s.stopped = f.Error()
		st.State, st.Reason = messages.StateStopped, s.stopped
		d.stop = true
	case messages.FailDuplicateLogin:
		// Another client uses our account; fighting it would be a loop.
		s.count++
		d.delay = s.retry.Cooldown
		s.startCooldownLocked(now)
	default:
		s.count++
		d.delay = s.jittered(s.retry.Backoff(s.count))
		if f.Kind == messages.FailGuestLimit {
			d.delay = max(d.delay, s.retry.GuestLimitWait)
		}
		if s.count >= s.retry.Attempts {
			d.delay = s.retry.Cooldown
			s.startCooldownLocked(now)
		} else {
			s.notBefore, s.waitState = now.Add(d.delay), messages.StateBackingOff
		}
	}
	if !d.stop {
		st.State, st.Until = s.waitState, s.notBefore
	}
	d.state = st
	d.saved = s.snapshotLocked()
	return d
}

func (s *ConnectionStrategy) startCooldownLocked(now time.Time) {
	s.cooldownUntil = now.Add(s.retry.Cooldown)
	s.notBefore, s.waitState = s.cooldownUntil, messages.StateCoolingDown
}

// jittered takes up to Jitter of d off at random.
func (s *ConnectionStrategy) jittered(d time.Duration) time.Duration {
	return d - time.Duration(s.retry.Jitter*s.rand()*float64(d))
}

func (s *ConnectionStrategy) restartAt(at time.Time, sup actor.Supervisor, child *actor.PID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	var t clock.Timer
	t = s.clock.AfterFunc(at.Sub(s.clock.Now()), func() {
		s.mu.Lock()
		live := !s.closed && s.timer == t
		if live {
			s.timer = nil
		}
		s.mu.Unlock()
		if live {
			sup.RestartChildren(child)
		}
	})
	s.timer = t
}

// BeginAttempt implements AttemptSource: the connection asks
// before every attempt. It records the attempt and ends an elapsed cooldown.
func (s *ConnectionStrategy) BeginAttempt() AttemptInfo {
	s.mu.Lock()
	now := s.clock.Now()
	if now.Before(s.notBefore) {
		info := AttemptInfo{Number: s.count + 1, LastError: s.lastError, NotBefore: s.notBefore, WaitState: s.waitState}
		if s.waitState == messages.StateCoolingDown {
			info.Number = 1
		}
		s.mu.Unlock()
		return info
	}
	if !s.cooldownUntil.IsZero() || s.count >= s.retry.Attempts {
		s.log.Info("cooldown over; starting a new round of attempts", slog.Int("failed_attempts", s.count))
		s.count, s.cooldownUntil = 0, time.Time{}
	}
	s.notBefore, s.waitState = time.Time{}, ""
	s.lastAttempt = now
	s.current = s.count + 1
	info := AttemptInfo{Number: s.current, LastError: s.lastError}
	saved := s.snapshotLocked()
	s.mu.Unlock()
	s.save(saved)
	return info
}

// LoginConfirmed resets the schedule after a confirmed login. Only the
// connection calls it (AttemptSource), once per login, when it
// goes online; whoever merely hears StateOnline does not. A call that
// arrives while the strategy waits after a failure or has stopped the
// connection is a stale report of the attempt that just failed and is
// ignored.
func (s *ConnectionStrategy) LoginConfirmed() {
	s.mu.Lock()
	s.logins++
	if s.stopped != "" || !s.notBefore.IsZero() {
		s.mu.Unlock()
		return
	}
	if s.count == 0 && s.cooldownUntil.IsZero() && s.lastError == "" {
		s.mu.Unlock()
		return
	}
	// Online again: what earlier attempts failed with is history, not a
	// reason to show on /readyz or to restore after a restart.
	s.count, s.cooldownUntil, s.waitState, s.lastError = 0, time.Time{}, "", ""
	s.status = messages.ConnectionState{Channel: s.channel, State: messages.StateOnline, At: s.clock.Now()}
	saved := s.snapshotLocked()
	s.mu.Unlock()
	s.save(saved)
}

// Restore applies the persisted state (RetryStore.Load at start-up). The
// rule, the same for every kind of state: what was persisted is honoured.
//   - mid-cooldown (any cause, a duplicate login too): the rest is waited out;
//   - mid-round: the count goes on, the next attempt keeps its backoff;
//   - stopped: the channel stays stopped — except a stop the configuration
//     caused (refused login, channel password, invalid channel, bad config),
//     which is retried when the server URL, account or channel password
//     changed since (CredentialsFingerprint).
//
// `daz state reset <channel>` clears a channel's state; every restored
// state is logged with that hint. Stopped reports whether the channel stays
// stopped.
func (s *ConnectionStrategy) Restore(st RetryState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	hint := slog.String("clear_with", "daz state reset "+s.channel)
	if st.StoppedReason != "" {
		if configCaused(st.StoppedReason) && st.CredentialsFP != s.creds {
			s.log.Warn("restored a stop caused by the configuration, which has changed since; trying again",
				slog.String("reason", st.StoppedReason))
			s.lastError = st.StoppedReason
			return
		}
		s.stopped, s.lastError = st.StoppedReason, st.LastError
		s.status = messages.ConnectionState{Channel: s.channel, State: messages.StateStopped,
			Reason: st.StoppedReason, LastError: st.LastError, At: now}
		s.log.Error("restored a stop; the channel stays stopped until its state is cleared",
			slog.String("reason", st.StoppedReason), slog.Time("stopped_at", st.UpdatedAt), hint)
		return
	}
	s.count = max(st.RetryCount, 0)
	s.lastAttempt, s.lastError = st.LastAttempt, st.LastError
	s.cooldownUntil = st.CooldownUntil
	switch {
	case now.Before(st.CooldownUntil):
		s.notBefore, s.waitState = st.CooldownUntil, messages.StateCoolingDown
		s.log.Warn("restored a cooldown; connecting when it ends",
			slog.Time("until", st.CooldownUntil), slog.String("remaining", st.CooldownUntil.Sub(now).String()),
			slog.String("last_error", st.LastError), hint)
	case s.count > 0 && s.count < s.retry.Attempts && !st.LastAttempt.IsZero():
		next := st.LastAttempt.Add(s.retry.Backoff(s.count))
		if now.Before(next) {
			s.notBefore, s.waitState = next, messages.StateBackingOff
		}
		s.log.Info("restored a round of attempts", slog.Int("failed_attempts", s.count),
			slog.Time("next_attempt", maxTime(next, now)), slog.String("last_error", st.LastError), hint)
	}
}

// configCaused tells a stop the configuration can fix from one it cannot
// (a ban) by the failure kind the reason starts with.
func configCaused(reason string) bool {
	kind, _, _ := strings.Cut(reason, ":")
	switch messages.FailureKind(kind) {
	case messages.FailBadCredentials, messages.FailNeedPassword, messages.FailInvalidChannel, messages.FailConfig:
		return true
	}
	return false
}

// Stopped is the reason the channel stays stopped ("" while it may connect).
func (s *ConnectionStrategy) Stopped() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// Status is the last state the strategy published (a stopped connection's
// node is gone from the tree; this keeps its reason).
func (s *ConnectionStrategy) Status() messages.ConnectionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// LoginConfirmations counts the LoginConfirmed calls so far: one per login.
func (s *ConnectionStrategy) LoginConfirmations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Snapshot returns the state as it would be persisted.
func (s *ConnectionStrategy) Snapshot() RetryState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshotLocked()
}

// Close cancels a pending restart; the channel actor calls it when it stops.
func (s *ConnectionStrategy) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

func (s *ConnectionStrategy) snapshotLocked() RetryState {
	return RetryState{
		Channel: s.channel, RetryCount: s.count, CooldownUntil: s.cooldownUntil,
		LastAttempt: s.lastAttempt, LastError: s.lastError, StoppedReason: s.stopped, CredentialsFP: s.creds,
	}
}

func (s *ConnectionStrategy) save(st RetryState) {
	if s.store != nil {
		s.store.Save(st)
	}
}

// asFailure reads the panic reason; anything but a *messages.ConnectionFailure is a
// bug in the connection and retried on the normal schedule.
func asFailure(reason any) *messages.ConnectionFailure {
	if f, ok := reason.(*messages.ConnectionFailure); ok {
		return f
	}
	if err, ok := reason.(error); ok {
		var f *messages.ConnectionFailure
		if errors.As(err, &f) {
			return f
		}
		return &messages.ConnectionFailure{Kind: messages.FailInternal, Err: err}
	}
	return &messages.ConnectionFailure{Kind: messages.FailInternal, Err: fmt.Errorf("panic: %v", reason)}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
