package connection_test

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/internal/testutil"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"
)

// seededRand is a deterministic, goroutine-safe source for the jitter.
func seededRand(seed uint64) func() float64 {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}

// With the injected clock the whole schedule runs in milliseconds: attempts
// 1-9 wait min(5m, 2s·2^(n-1)) less at most 20 % jitter, the tenth failure
// starts the 30-minute cooldown, the eleventh attempt starts a new round,
// and a confirmed login resets the count.
func TestRetryScheduleCooldownAndReset(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandbox.Options{})
	srv.SetRefuse(true)
	rig := NewRig(t, RigConfig{
		Conn:  connection.Config{Channel: "testchan", ServerURL: srv.URL(), Username: "dazbot", Password: "pw"},
		Retry: supervision.DefaultRetryConfig(),
		Rand:  seededRand(42),
	})
	schedule := []time.Duration{ // min(5m, 2s·2^(n-1)), written out
		2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second,
		64 * time.Second, 128 * time.Second, 256 * time.Second, 5 * time.Minute,
	}
	var delays []time.Duration
	for n := 1; n <= 9; n++ {
		st := rig.WaitState(t, messages.StateBackingOff, n)
		delay := st.Until.Sub(st.At)
		full := schedule[n-1]
		if st.Attempt != n || delay > full || delay < full*8/10 {
			t.Fatalf("failure %d: attempt %d waits %s, want %s less at most 20%%", n, st.Attempt, delay, full)
		}
		if !strings.Contains(st.LastError, string(connection.KindDiscovery)) {
			t.Fatalf("failure %d: last error %q", n, st.LastError)
		}
		if got := srv.SocketConfigRequests(); got != n {
			t.Fatalf("failure %d after %d discovery requests", n, got)
		}
		delays = append(delays, delay)
		rig.AdvanceTo(st.Until)
		testutil.CheckFor(t, wait, "next attempt", func() bool { return srv.SocketConfigRequests() == n+1 })
	}
	if jittered := distinctFractions(delays, schedule); jittered < 2 {
		t.Fatalf("delays %v show no jitter", delays)
	}

	cool := rig.WaitState(t, messages.StateCoolingDown, 1)
	if cool.Attempt != 10 || cool.Until.Sub(cool.At) != 30*time.Minute {
		t.Fatalf("tenth failure: %+v, want a 30 min cooldown", cool)
	}
	if node, ok := rig.NodeState(); !ok || node.State != messages.StateCoolingDown || !node.Until.Equal(cool.Until) {
		t.Fatalf("debug endpoint shows %+v", node)
	}
	rig.AdvanceTo(cool.Until.Add(-time.Second))
	if srv.SocketConfigRequests() != 10 || len(rig.Clock.Pending()) != 1 {
		t.Fatal("attempt during the cooldown")
	}
	rig.AdvanceTo(cool.Until)
	testutil.CheckFor(t, wait, "eleventh attempt", func() bool { return srv.SocketConfigRequests() == 11 })

	// A new round: the count starts over.
	st := rig.WaitState(t, messages.StateBackingOff, 10)
	if st.Attempt != 1 || st.Until.Sub(st.At) > 2*time.Second {
		t.Fatalf("first failure of the new round: %+v", st)
	}
	rig.AdvanceTo(st.Until)
	st = rig.WaitState(t, messages.StateBackingOff, 11)
	if st.Attempt != 2 || st.Until.Sub(st.At) > 4*time.Second || st.Until.Sub(st.At) < 3200*time.Millisecond {
		t.Fatalf("second failure of the new round: %+v", st)
	}

	// The third attempt logs in; a later kick is reported as attempt 3 (the
	// number its connecting and online lines carried) but the schedule
	// starts over with the base delay.
	srv.SetRefuse(false)
	rig.AdvanceTo(st.Until)
	online := rig.WaitState(t, messages.StateOnline, 1)
	if online.Attempt != 3 {
		t.Fatalf("online on attempt %d, want 3", online.Attempt)
	}
	if saved := rig.Strategy.Snapshot(); saved.RetryCount != 0 || !saved.CooldownUntil.IsZero() {
		t.Fatalf("login did not reset the persisted count: %+v", saved)
	}
	if err := srv.Socket(1).Kick("testing kick"); err != nil {
		t.Fatal(err)
	}
	st = rig.WaitState(t, messages.StateBackingOff, 12)
	if st.Attempt != 3 || st.Until.Sub(st.At) > 2*time.Second {
		t.Fatalf("kick after a login: %+v, want attempt 3 with a base delay", st)
	}
}

// distinctFractions counts the different delay/schedule ratios.
func distinctFractions(delays, schedule []time.Duration) int {
	seen := map[int64]bool{}
	for i, d := range delays {
		seen[int64(d)*1000/int64(schedule[i])] = true
	}
	return len(seen)
}
