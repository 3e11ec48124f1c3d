package supervision

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/messages"
)

var epoch = time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)

// fakeSupervisor records what the strategy asks of the channel actor.
type fakeSupervisor struct {
	mu        sync.Mutex
	restarted []string
	stopped   []string
}

func (f *fakeSupervisor) Children() []*actor.PID       { return nil }
func (f *fakeSupervisor) EscalateFailure(any, any)     {}
func (f *fakeSupervisor) ResumeChildren(...*actor.PID) {}
func (f *fakeSupervisor) RestartChildren(pids ...*actor.PID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range pids {
		f.restarted = append(f.restarted, p.Id)
	}
}
func (f *fakeSupervisor) StopChildren(pids ...*actor.PID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range pids {
		f.stopped = append(f.stopped, p.Id)
	}
}

func (f *fakeSupervisor) counts() (restarted, stopped int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.restarted), len(f.stopped)
}

// memoryStore records every save.
type memoryStore struct {
	mu    sync.Mutex
	saved []RetryState
}

func (m *memoryStore) Load(_ context.Context, channel string) (RetryState, error) {
	return RetryState{Channel: channel}, nil
}

func (m *memoryStore) Save(st RetryState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saved = append(m.saved, st)
}

func (m *memoryStore) last() RetryState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saved[len(m.saved)-1]
}

type harness struct {
	clk      *clock.Fake
	sys      *actorkit.System
	strategy *ConnectionStrategy
	sup      *fakeSupervisor
	store    *memoryStore
	child    *actor.PID
}

func newHarness(t *testing.T, retry RetryConfig) *harness {
	t.Helper()
	clk := clock.NewFake(epoch)
	sys := actorkit.NewSystem(nil, clk)
	store := &memoryStore{}
	s, err := NewConnectionStrategy(ConnectionStrategyConfig{
		Channel: "testchan", Retry: retry, System: sys, Store: store, Rand: func() float64 { return 1 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{clk: clk, sys: sys, strategy: s, sup: &fakeSupervisor{}, store: store,
		child: actor.NewPID("nonhost", "channel-testchan/connection")}
}

func (h *harness) fail(kind messages.FailureKind, text string) {
	h.strategy.HandleFailure(nil, h.sup, h.child, nil, &messages.ConnectionFailure{Kind: kind, Text: text}, nil)
}

func TestBackoffIsCappedAndDoubling(t *testing.T) {
	t.Parallel()
	c := DefaultRetryConfig()
	want := map[int]time.Duration{
		0: 2 * time.Second, 1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second,
		8: 256 * time.Second, 9: 5 * time.Minute, 10: 5 * time.Minute, 1000: 5 * time.Minute,
	}
	for n, d := range want {
		if got := c.Backoff(n); got != d {
			t.Errorf("Backoff(%d) = %s, want %s", n, got, d)
		}
	}
}

func TestRetryConfigValidate(t *testing.T) {
	t.Parallel()
	ok := DefaultRetryConfig()
	cases := map[string]func(*RetryConfig){
		"zero base":      func(c *RetryConfig) { c.Base = 0 },
		"cap below base": func(c *RetryConfig) { c.MaxDelay = time.Second },
		"no attempts":    func(c *RetryConfig) { c.Attempts = 0 },
		"no cooldown":    func(c *RetryConfig) { c.Cooldown = 0 },
		"jitter 1":       func(c *RetryConfig) { c.Jitter = 1 },
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for name, breakIt := range cases {
		c := ok
		breakIt(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The policy by failure kind, at the strategy itself.
func TestPolicyByKind(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind  messages.FailureKind
		text  string
		stop  bool
		state messages.ConnState
		wait  time.Duration
	}{
		{messages.FailBanned, "You're banned!", true, messages.StateStopped, 0},
		{messages.FailBadCredentials, "Invalid username/password combination", true, messages.StateStopped, 0},
		{messages.FailInvalidChannel, "Invalid channel name", true, messages.StateStopped, 0},
		{messages.FailNeedPassword, "channel needs a password", true, messages.StateStopped, 0},
		{messages.FailConfig, "empty channel name", true, messages.StateStopped, 0},
		{messages.FailDuplicateLogin, "Duplicate login", false, messages.StateCoolingDown, 30 * time.Minute},
		{messages.FailGuestLimit, "Guest logins are restricted", false, messages.StateBackingOff, 65 * time.Second},
		{messages.FailKicked, "testing kick", false, messages.StateBackingOff, 1600 * time.Millisecond},
		{messages.FailRateLimited, "Rate limit exceeded", false, messages.StateBackingOff, 1600 * time.Millisecond},
		{messages.FailDeadLink, "", false, messages.StateBackingOff, 1600 * time.Millisecond},
		{messages.FailInternal, "", false, messages.StateBackingOff, 1600 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, RetryConfig{})
			h.fail(tc.kind, tc.text)
			st := h.strategy.Status()
			if st.State != tc.state {
				t.Fatalf("state %q, want %q", st.State, tc.state)
			}
			if node, _ := h.sys.Tree().State(h.child.Id); node != nil {
				t.Fatalf("state recorded on a node that is not in the tree: %v", node)
			}
			if tc.stop {
				_, stopped := h.sup.counts()
				if stopped != 1 || len(h.clk.Pending()) != 0 || !strings.Contains(h.store.last().StoppedReason, tc.text) {
					t.Fatalf("stop: stopped=%d pending=%v saved=%+v", stopped, h.clk.Pending(), h.store.last())
				}
				return
			}
			if got := st.Until.Sub(st.At); got != tc.wait {
				t.Fatalf("waits %s, want %s", got, tc.wait)
			}
			h.clk.Advance(tc.wait - time.Millisecond)
			if restarted, _ := h.sup.counts(); restarted != 0 {
				t.Fatal("restarted early")
			}
			h.clk.Advance(time.Millisecond)
			if restarted, stopped := h.sup.counts(); restarted != 1 || stopped != 0 {
				t.Fatalf("restarted %d, stopped %d", restarted, stopped)
			}
		})
	}
}

// A login reported after the failure of the same attempt (the parent's
// queued StateOnline) must not undo the failure's decision.
func TestStaleLoginConfirmationIsIgnored(t *testing.T) {
	t.Parallel()
	h := newHarness(t, RetryConfig{})
	h.strategy.BeginAttempt()
	h.fail(messages.FailDuplicateLogin, "Duplicate login")
	h.strategy.LoginConfirmed()
	if saved := h.store.last(); saved.CooldownUntil.IsZero() {
		t.Fatalf("cooldown erased by a stale login: %+v", saved)
	}
	h = newHarness(t, RetryConfig{})
	h.fail(messages.FailBanned, "You're banned!")
	h.strategy.LoginConfirmed()
	if saved := h.strategy.Snapshot(); saved.StoppedReason == "" {
		t.Fatal("stop reason erased by a stale login")
	}

	// A live login resets the count.
	h = newHarness(t, RetryConfig{})
	h.fail(messages.FailKicked, "x")
	h.clk.Advance(time.Minute)
	if info := h.strategy.BeginAttempt(); info.Number != 2 {
		t.Fatalf("attempt %d after one failure", info.Number)
	}
	h.strategy.LoginConfirmed()
	if info := h.strategy.BeginAttempt(); info.Number != 1 || h.store.last().RetryCount != 0 {
		t.Fatalf("attempt %d after a login, saved %+v", info.Number, h.store.last())
	}
}

func TestRestore(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		state      RetryState
		wantNumber int
		wantUntil  time.Time
		wantWait   messages.ConnState
	}{
		{"fresh", RetryState{Channel: "testchan"}, 1, time.Time{}, ""},
		{"mid cooldown", RetryState{Channel: "testchan", RetryCount: 10, CooldownUntil: epoch.Add(7 * time.Minute)},
			1, epoch.Add(7 * time.Minute), messages.StateCoolingDown},
		{"cooldown over while down", RetryState{Channel: "testchan", RetryCount: 10, CooldownUntil: epoch.Add(-time.Minute)},
			1, time.Time{}, ""},
		{"mid round", RetryState{Channel: "testchan", RetryCount: 3, LastAttempt: epoch.Add(-2 * time.Second)},
			4, epoch.Add(6 * time.Second), messages.StateBackingOff},
		{"mid round, backoff over", RetryState{Channel: "testchan", RetryCount: 3, LastAttempt: epoch.Add(-time.Hour)},
			4, time.Time{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, RetryConfig{})
			h.strategy.Restore(tc.state)
			info := h.strategy.BeginAttempt()
			if info.Number != tc.wantNumber || !info.NotBefore.Equal(tc.wantUntil) || info.WaitState != tc.wantWait {
				t.Fatalf("BeginAttempt = %+v, want number %d, not before %v (%s)", info, tc.wantNumber, tc.wantUntil, tc.wantWait)
			}
		})
	}
}

// A persisted stop is honoured across a restart, except one the
// configuration caused when that configuration has changed since.
func TestRestoreStopped(t *testing.T) {
	t.Parallel()
	const now, before = "fp-now", "fp-before"
	cases := []struct {
		name    string
		reason  string
		fp      string
		stopped bool
	}{
		{"banned, nothing changed", "banned: You're banned!", now, true},
		{"banned, credentials changed", "banned: You're banned!", before, true},
		{"login refused, nothing changed", "bad-credentials: Invalid username/password combination: login refused", now, true},
		{"login refused, credentials changed", "bad-credentials: Invalid username/password combination: login refused", before, false},
		{"channel password, changed", "need-password: channel needs a password; set cytube.channel_password", before, false},
		{"channel password, same", "need-password: channel password rejected; check cytube.channel_password", now, true},
		{"saved before fingerprints existed", "bad-credentials: User does not exist", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewFake(epoch)
			store := &memoryStore{}
			s, err := NewConnectionStrategy(ConnectionStrategyConfig{
				Channel: "testchan", System: actorkit.NewSystem(nil, clk), Store: store, Credentials: now,
			})
			if err != nil {
				t.Fatal(err)
			}
			s.Restore(RetryState{Channel: "testchan", StoppedReason: tc.reason, CredentialsFP: tc.fp, LastError: tc.reason})
			if got := s.Stopped() != ""; got != tc.stopped {
				t.Fatalf("stopped after the restart: %v, want %v", got, tc.stopped)
			}
			if tc.stopped {
				if st := s.Status(); st.State != messages.StateStopped || st.Reason != tc.reason {
					t.Fatalf("status %+v", st)
				}
				if saved := s.Snapshot(); saved.StoppedReason != tc.reason {
					t.Fatalf("snapshot lost the stop: %+v", saved)
				}
				return
			}
			if info := s.BeginAttempt(); info.Number != 1 || !info.NotBefore.IsZero() {
				t.Fatalf("retry after changed credentials: %+v", info)
			}
			if saved := store.last(); saved.StoppedReason != "" || saved.CredentialsFP != now {
				t.Fatalf("persisted after the retry began: %+v", saved)
			}
		})
	}
}

// Failures of the channel's other children never touch the schedule.
func TestOtherChildrenRestartAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, RetryConfig{})
	h.strategy.HandleFailure(nil, h.sup, actor.NewPID("nonhost", "channel-testchan/eventfilter"), actor.NewRestartStatistics(), errors.New("boom"), nil)
	if restarted, _ := h.sup.counts(); restarted != 1 || len(h.store.saved) != 0 {
		t.Fatalf("restarted %d, saves %d", restarted, len(h.store.saved))
	}
}

// A child failing again at once is restarted after a pause, not in a loop.
func TestOtherChildFailingAgainPauses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, RetryConfig{})
	plugin := actor.NewPID("nonhost", "channel-testchan/eventfilter")
	rs := actor.NewRestartStatistics() // protoactor keeps one per child
	h.strategy.HandleFailure(nil, h.sup, plugin, rs, errors.New("boom"), nil)
	h.strategy.HandleFailure(nil, h.sup, plugin, rs, errors.New("boom"), nil)
	if restarted, _ := h.sup.counts(); restarted != 1 {
		t.Fatalf("restarted %d times at once, want 1", restarted)
	}
	h.clk.Advance(time.Second)
	if restarted, _ := h.sup.counts(); restarted != 2 {
		t.Fatalf("restarted %d times after the pause, want 2", restarted)
	}
}

// Close cancels a pending restart (the channel is stopping).
func TestCloseCancelsThePendingRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, RetryConfig{})
	h.fail(messages.FailKicked, "x")
	h.strategy.Close()
	h.clk.Advance(time.Hour)
	if restarted, _ := h.sup.counts(); restarted != 0 {
		t.Fatal("restarted after Close")
	}
}

// A login clears what earlier attempts failed with, in the status the
// debug endpoint reads and in what is persisted.
func TestLoginClearsTheStaleError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, DefaultRetryConfig())
	h.strategy.BeginAttempt()
	h.fail(messages.FailKicked, "testing kick")
	h.clk.Advance(time.Hour)
	h.strategy.BeginAttempt()
	h.strategy.LoginConfirmed()
	if st := h.strategy.Status(); st.State != messages.StateOnline || st.LastError != "" || st.Reason != "" {
		t.Fatalf("status after a login: %+v", st)
	}
	if saved := h.store.last(); saved.LastError != "" || saved.RetryCount != 0 || saved.StoppedReason != "" {
		t.Fatalf("persisted after a login: %+v", saved)
	}
}
