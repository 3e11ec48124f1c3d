package outbound

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/messages"
)

const wait = 10 * time.Second

type rig struct {
	t      *testing.T
	sys    *actorkit.System
	fake   *clock.Fake // nil on the real clock
	server *fakeServer
	pid    *actor.PID
	sent   uint64 // requests handed to the outbound queue
	events uint64 // events the test itself sent it
}

// send hands the outbound queue a SendChat, SendPM or SendEvent.
func (r *rig) send(msg any) {
	r.sent++
	r.sys.Send(r.pid, msg)
}

func newRig(t *testing.T, fake *clock.Fake, setup func(*fakeServer)) *rig {
	t.Helper()
	var clk clock.Clock
	if fake != nil {
		clk = fake
	} else {
		clk = clock.Real()
	}
	sys := actorkit.NewSystem(nil, clk)
	r := &rig{t: t, sys: sys, fake: fake}
	r.server = &fakeServer{sys: sys, clk: clk, rank: 2, absent: map[string]bool{}, wire: newStamper()}
	if setup != nil {
		setup(r.server)
	}
	conn, err := sys.Root().SpawnNamed(sys.Props("fakeserver", func() actor.Actor { return r.server }), "connection")
	if err != nil {
		t.Fatal(err)
	}
	props, err := Props(sys, Config{Channel: testChannel, Connection: conn, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	r.pid, err = sys.Root().SpawnNamed(props, "outbound")
	if err != nil {
		t.Fatal(err)
	}
	sys.Send(conn, setOutbound{pid: r.pid})
	actortest.CheckFor(t, wait, "outbound started", func() bool { _, ok := r.state(); return ok })
	t.Cleanup(func() {
		for _, id := range []string{"outbound", "connection"} {
			_ = sys.Shutdown(t.Context(), id)
		}
	})
	return r
}

func (r *rig) state() (State, bool) {
	v, ok := r.sys.Tree().State("outbound")
	s, isState := v.(State)
	return s, ok && isState
}

func (r *rig) online(rank float64) {
	r.sys.Publish(&messages.ConnectionState{Channel: testChannel, State: messages.StateOnline, Username: testBot, Rank: rank})
	actortest.CheckFor(r.t, wait, "online", func() bool { s, _ := r.state(); return s.Online })
}

func (r *rig) offline() {
	r.sys.Publish(&messages.ConnectionState{Channel: testChannel, State: messages.StateBackingOff})
	actortest.CheckFor(r.t, wait, "offline", func() bool { s, _ := r.state(); return !s.Online })
}

func (r *rig) event(name string, body any) {
	r.events++
	r.sys.Send(r.pid, r.server.wire.stamp(&messages.Event{Channel: testChannel, Name: name, Body: body}))
}

// settle waits until nothing moves without the clock: both mailboxes empty,
// every sent message answered, and the wake-up for the queue's head (if
// any) scheduled. It reports whether work is left.
func (r *rig) settle() bool {
	r.t.Helper()
	var left bool
	actortest.CheckFor(r.t, wait, "outbound to settle", func() bool {
		s, _ := r.state()
		ob, _ := r.sys.Tree().Find("outbound")
		cn, _ := r.sys.Tree().Find("connection")
		left = s.QueueDepth > 0
		r.server.mu.Lock()
		events := r.events + r.server.events
		r.server.mu.Unlock()
		return s.Requests == r.sent && s.Events == events && s.InFlight == 0 && ob.MailboxDepth == 0 && cn.MailboxDepth == 0 &&
			(!left || !s.Online || s.Muted || slices.ContainsFunc(r.fake.Pending(), s.NextSend.Equal))
	})
	return left
}

// drive advances the fake clock from one deadline to the next until the
// queue is empty (or limit steps passed).
func (r *rig) drive(limit int) {
	r.t.Helper()
	for i := 0; r.settle(); i++ {
		if i == limit {
			r.t.Fatalf("queue not empty after %d clock steps", limit)
		}
		p := r.fake.Pending()
		if len(p) == 0 {
			return
		}
		r.fake.Set(p[0])
	}
}

func msgs(d []delivered) []string {
	out := make([]string, len(d))
	for i, x := range d {
		out[i] = x.msg
	}
	return out
}

func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("reply %02d", i)
	}
	return out
}

var epoch = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// TestFiftyRepliesAtOnceAllDelivered: the server allows 20 at once, then 10
// per second and drops the rest with a cooldown. 50 replies queued in one
// go all arrive, in order, and the pacing never trips the limiter.
func TestFiftyRepliesAtOnceAllDelivered(t *testing.T) {
	t.Parallel()
	r := newRig(t, clock.NewFake(epoch), nil)
	r.online(2)
	want := numbered(50)
	for _, m := range want {
		r.send(&messages.SendChat{Channel: testChannel, Msg: m})
	}
	r.drive(200)
	got := r.server.delivered()
	if strings.Join(msgs(got), ",") != strings.Join(want, ",") {
		t.Fatalf("delivered %q\nwant %q", msgs(got), want)
	}
	cooldowns, _, _ := r.server.counts()
	s, _ := r.state()
	if cooldowns != 0 || s.ThrottleWaits != 30 || s.Sent != 50 {
		t.Fatalf("cooldowns %d, throttle waits %d, sent %d; want 0, 30, 50", cooldowns, s.ThrottleWaits, s.Sent)
	}
	if took := got[49].at.Sub(got[0].at); took < 3*time.Second || took > 4*time.Second {
		t.Fatalf("50 replies took %v; the server allows them in 3 s", took)
	}
}

// TestFiftyRepliesOnTheRealClock is the same against wall time, where
// scheduling jitter may cost a cooldown: whatever the server drops is sent
// again, so every reply still arrives exactly once, in order.
func TestFiftyRepliesOnTheRealClock(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, nil)
	r.online(2)
	want := numbered(50)
	for _, m := range want {
		r.send(&messages.SendChat{Channel: testChannel, Msg: m})
	}
	actortest.CheckFor(t, 20*time.Second, "50 deliveries", func() bool { return len(r.server.delivered()) >= 50 })
	if got := msgs(r.server.delivered()); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("delivered %q\nwant %q", got, want)
	}
	cooldowns, _, _ := r.server.counts()
	t.Logf("cooldowns on the real clock: %d", cooldowns)
}

// TestCooldownResendsTheDroppedMessage: our limiter believes a burst is
// free, but another session (or a restart) already used it: the server
// drops with cooldown, and each dropped line goes again after the pause.
func TestCooldownResendsTheDroppedMessage(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(epoch)
	r := newRig(t, fake, func(s *fakeServer) {
		s.limiter = cytubeThrottle{count: 20, lastTime: epoch}
	})
	r.online(2)
	want := numbered(5)
	for _, m := range want {
		r.send(&messages.SendChat{Channel: testChannel, Msg: m})
	}
	r.drive(100)
	if got := msgs(r.server.delivered()); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("delivered %q, want %q", got, want)
	}
	cooldowns, _, _ := r.server.counts()
	s, _ := r.state()
	if cooldowns == 0 || s.Cooldowns != uint64(cooldowns) || s.Resent != uint64(cooldowns) {
		t.Fatalf("server cooldowns %d, outbound saw %d and resent %d", cooldowns, s.Cooldowns, s.Resent)
	}
}

// TestAntifloodPacesBelowModerator: with chat_antiflood on, rank 1 gets the
// channel's limits (burst 4, 1/s); PMs keep the general limiter.
func TestAntifloodPacesBelowModerator(t *testing.T) {
	t.Parallel()
	params := Limits{Burst: 4, Sustained: 1, Cooldown: 4 * time.Second}
	r := newRig(t, clock.NewFake(epoch), func(s *fakeServer) { s.rank, s.antiflood = 1, &params })
	r.online(1)
	r.event("channelOpts", &messages.ChannelOpts{ChatAntiflood: true,
		ChatAntifloodParams: messages.AntifloodParams{Burst: 4, Sustained: 1, Cooldown: 4}})
	for _, m := range numbered(10) {
		r.send(&messages.SendChat{Channel: testChannel, Msg: m})
	}
	r.drive(100)
	got := r.server.delivered()
	cooldowns, _, _ := r.server.counts()
	if len(got) != 10 || cooldowns != 0 {
		t.Fatalf("delivered %d with %d cooldowns, want 10 and 0", len(got), cooldowns)
	}
	if took := got[9].at.Sub(got[0].at); took < 6*time.Second {
		t.Fatalf("10 lines at 4 burst + 1/s took only %v", took)
	}
}

func TestMutedHoldsChatButNotPMs(t *testing.T) {
	t.Parallel()
	r := newRig(t, clock.NewFake(epoch), func(s *fakeServer) { s.muted = true })
	r.online(2)
	r.send(&messages.SendChat{Channel: testChannel, Msg: "can anyone hear me?"})
	actortest.CheckFor(t, wait, "noflood", func() bool { _, n, _ := r.server.counts(); return n == 1 })
	r.send(&messages.SendChat{Channel: testChannel, Msg: "second line"})
	r.send(&messages.SendPM{Channel: testChannel, To: "alice", Msg: "a PM still goes"})
	actortest.CheckFor(t, wait, "PM delivered", func() bool { return len(r.server.delivered()) == 1 })
	r.settle()
	if s, _ := r.state(); !s.Muted || s.QueueDepth != 2 {
		t.Fatalf("while muted: %+v, want muted with 2 chat lines held", s)
	}
	r.server.mu.Lock()
	r.server.muted = false
	r.server.mu.Unlock()
	r.event("setUserMeta", &messages.SetUserMeta{Name: "DazBot", Meta: messages.UserMeta{Muted: false}})
	r.drive(50)
	got := msgs(r.server.delivered())
	if strings.Join(got, "|") != "a PM still goes|can anyone hear me?|second line" {
		t.Fatalf("delivered %q", got)
	}
}

func TestOfflineHoldsAndReconnectResendsUnconfirmed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"connection not online", messages.ErrNotOnline},
		{"socket write failed", errors.New("write: broken pipe")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testOfflineHolds(t, tt.err)
		})
	}
}

func testOfflineHolds(t *testing.T, writeErr error) {
	r := newRig(t, clock.NewFake(epoch), func(s *fakeServer) { s.offlineErr = writeErr })
	r.send(&messages.SendChat{Channel: testChannel, Msg: "queued while offline"})
	r.settle()
	if _, _, writes := r.server.counts(); writes != 0 {
		t.Fatalf("%d writes before the connection was online", writes)
	}
	r.online(2)
	r.drive(10)
	if got := msgs(r.server.delivered()); len(got) != 1 {
		t.Fatalf("delivered %q", got)
	}

	// The socket dies under a write: the connection reports the failure,
	// and the line goes out again once a new socket is online.
	r.server.mu.Lock()
	r.server.offline = true
	r.server.mu.Unlock()
	r.send(&messages.SendChat{Channel: testChannel, Msg: "written into a dying socket"})
	actortest.CheckFor(t, wait, "write error", func() bool { s, _ := r.state(); return s.WriteErrors == 1 })
	r.offline()
	r.server.mu.Lock()
	r.server.offline = false
	r.server.mu.Unlock()
	r.online(2)
	r.drive(20)
	if got := msgs(r.server.delivered()); strings.Join(got, "|") != "queued while offline|written into a dying socket" {
		t.Fatalf("delivered %q", got)
	}
	if s, _ := r.state(); s.Failed != 0 {
		t.Fatalf("%d messages given up", s.Failed)
	}
}

func TestRefusedPMIsNotRetried(t *testing.T) {
	t.Parallel()
	r := newRig(t, clock.NewFake(epoch), func(s *fakeServer) { s.absent["ghost"] = true })
	r.online(2)
	r.send(&messages.SendPM{Channel: testChannel, To: "ghost", Msg: "hello?"})
	r.send(&messages.SendPM{Channel: testChannel, To: "alice", Msg: "hi"})
	r.drive(20)
	_, _, writes := r.server.counts()
	s, _ := r.state()
	if writes != 2 || s.Failed != 1 || len(r.server.delivered()) != 1 {
		t.Fatalf("writes %d, failed %d, delivered %v", writes, s.Failed, r.server.delivered())
	}
}

func TestLongRepliesAreSplitAndNeverBecomeCommands(t *testing.T) {
	t.Parallel()
	r := newRig(t, clock.NewFake(epoch), nil)
	r.online(2)
	long := strings.Repeat("word ", 64) + "/kick alice " + strings.Repeat("more ", 20)
	r.send(&messages.SendChat{Channel: testChannel, Msg: long})
	r.drive(20)
	got := msgs(r.server.delivered())
	if len(got) != 2 {
		t.Fatalf("%d chars gave %d lines: %q", len(long), len(got), got)
	}
	for _, m := range got {
		if Len16(m) > MaxMessageChars || strings.HasPrefix(m, "/") {
			t.Fatalf("line %q: %d units or a chat command", m, Len16(m))
		}
	}
	if !strings.HasPrefix(got[1], " /kick alice") {
		t.Fatalf("second line %q, want the continuation kept as text", got[1])
	}
}

// TestSendsWithoutHavingHeardTheConnectionState: a ConnectionState
// published before the outbound queue subscribed (its own restart, or a
// start racing the connection) is never published again. The queue must
// still send once the socket's events show it is in the channel, and
// must wait for the state when the connection says it is not online.
func TestSendsWithoutHavingHeardTheConnectionState(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		seqs   []uint64 // socket events the queue sees before the reply
		body   func(i int) any
		online bool // the connection is online
		want   int  // lines delivered before any ConnectionState
	}{
		{"join burst ended with the userlist", []uint64{1, 2}, burstEvent, true, 1},
		{"started mid-socket", []uint64{41}, func(int) any { return &messages.UserCount{Count: 3} }, true, 1},
		{"burst still running", []uint64{1}, func(int) any { return &messages.UserCount{Count: 3} }, true, 0},
		{"connection not logged in yet", []uint64{1, 2}, burstEvent, false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, clock.NewFake(epoch), func(s *fakeServer) {
				s.offline = !tt.online
				s.offlineErr = messages.ErrNotOnline
			})
			for i, seq := range tt.seqs {
				r.events++
				r.sys.Send(r.pid, r.server.wire.stamp(&messages.Event{Channel: testChannel, Name: "x", Seq: seq, Received: epoch, Body: tt.body(i)}))
			}
			r.send(&messages.SendChat{Channel: testChannel, Msg: "pong"})
			r.drive(10)
			if got := msgs(r.server.delivered()); len(got) != tt.want {
				t.Fatalf("delivered %q before any connection state, want %d lines", got, tt.want)
			}
			if tt.want == 0 && !tt.online {
				r.server.mu.Lock()
				r.server.offline = false
				r.server.mu.Unlock()
				r.online(2)
				r.drive(10)
				if got := msgs(r.server.delivered()); len(got) != 1 {
					t.Fatalf("delivered %q once online, want the held reply", got)
				}
			}
		})
	}
}

func burstEvent(i int) any {
	if i == 0 {
		return &messages.UserCount{Count: 1}
	}
	return &messages.UserList{Users: []messages.User{{Name: testBot, Rank: 2}}}
}

// TestLinksInRepliesStayClickable: whoever sends the line, no URL leaves
// the queue with punctuation glued to it.
func TestLinksInRepliesStayClickable(t *testing.T) {
	t.Parallel()
	r := newRig(t, clock.NewFake(epoch), nil)
	r.online(2)
	r.send(&messages.SendChat{Channel: testChannel, Msg: "Now playing: x https://host/m1.json, started 3s ago."})
	r.send(&messages.SendPM{Channel: testChannel, To: "alice", Msg: "(see https://host/help)"})
	r.drive(20)
	got := msgs(r.server.delivered())
	if strings.Join(got, "|") != "Now playing: x https://host/m1.json , started 3s ago.|(see https://host/help )" {
		t.Fatalf("delivered %q", got)
	}
}
