package connection_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"
)

// stamp is what JoinTracker should set on one event.
type stamp struct{ burst, backlog, own bool }

func stampOf(ev *messages.Event) stamp { return stamp{ev.Burst, ev.Backlog, ev.Own} }

func TestJoinTrackerStamps(t *testing.T) {
	t.Parallel()
	join := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	chat := func(user string, age time.Duration) any {
		return &messages.ChatMsg{Username: user, Time: join.Add(-age).UnixMilli()}
	}
	type step struct {
		seq  uint64
		body any
		want stamp
	}
	tests := []struct {
		name  string
		login string
		steps []step
	}{
		{"burst chat is backlog until the userlist", "dazbot", []step{
			{1, &messages.SetPermissions{}, stamp{burst: true}},
			{2, chat("alice", time.Second), stamp{burst: true, backlog: true}},
			{3, chat("DazBot", time.Hour), stamp{burst: true, backlog: true, own: true}},
			{4, &messages.UserList{}, stamp{}},
			{5, chat("alice", 0), stamp{}},
			{6, chat("alice", 3*time.Second), stamp{}},              // within the skew
			{7, chat("alice", time.Minute), stamp{backlog: true}},   // older than the join
			{8, chat("dazbot", 0), stamp{own: true}},                // our echo
			{9, &messages.Pm{Username: "DAZBOT"}, stamp{own: true}}, // our PM's echo
			{10, &messages.Pm{Username: "alice"}, stamp{}},          // a PM to us
			{11, &messages.SetUserMeta{Name: "dazbot"}, stamp{own: true}},
			{12, &messages.SetUserMeta{Name: "alice"}, stamp{}},
		}},
		{"the login reply names us", "", []step{
			{1, &messages.UserList{}, stamp{}},
			{2, chat("guest_1", 0), stamp{}},
			{3, &messages.Login{Success: true, Name: "guest_1"}, stamp{}},
			{4, chat("guest_1", 0), stamp{own: true}},
			{5, &messages.Login{Success: false, Name: "other"}, stamp{}},
			{6, chat("guest_1", 0), stamp{own: true}},
		}},
		{"a new socket starts a new burst", "dazbot", []step{
			{1, &messages.UserList{}, stamp{}},
			{2, chat("alice", 0), stamp{}},
			{1, chat("alice", 0), stamp{burst: true, backlog: true}},
			{2, &messages.UserList{}, stamp{}},
			{3, chat("alice", 0), stamp{}},
		}},
		{"first seen mid-socket: the burst is over", "dazbot", []step{
			{41, chat("alice", time.Hour), stamp{}},
			{42, chat("dazbot", 0), stamp{own: true}},
		}},
		{"not from a socket: live", "dazbot", []step{
			{0, chat("alice", time.Hour), stamp{}},
			{0, chat("dazbot", 0), stamp{own: true}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := connection.NewJoinTracker(tt.login, 0)
			for i, s := range tt.steps {
				ev := &messages.Event{Channel: "testchan", Seq: s.seq, Received: join, Body: s.body}
				tr.Stamp(ev)
				if got := stampOf(ev); got != s.want {
					t.Fatalf("step %d (seq %d, %T): stamped %+v, want %+v", i, s.seq, s.body, got, s.want)
				}
			}
		})
	}
}

// serverClock is the sandbox's clock, set to whatever server time a line
// should carry (backwards too).
type serverClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *serverClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *serverClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestEventsArriveStamped: the reader stamps every event before the sinks
// get it — the join burst's replayed chat as backlog on each socket, a
// live line as live, a line with an old server time as backlog, our own
// echo as ours.
func TestEventsArriveStamped(t *testing.T) {
	t.Parallel()
	const channel = "stamped"
	srvClock := &serverClock{}
	srvClock.Set(Epoch.Add(-time.Hour))
	sb := sandboxtest.Start(t, sandbox.Options{Channels: []string{channel}, Clock: srvClock})
	say := func(user, msg string) {
		t.Helper()
		if err := sb.Say(channel, user, msg); err != nil {
			t.Fatal(err)
		}
	}
	say("alice", "an hour before the join")
	srvClock.Set(Epoch)

	rig := NewRig(t, RigConfig{
		Conn:  connection.Config{Channel: channel, ServerURL: sb.URL(), Username: "dazbot", Password: "pw"},
		Retry: supervision.RetryConfig{Base: time.Second, MaxDelay: time.Second, Attempts: 10, Cooldown: time.Hour},
	})
	const stampWait = 10 * time.Second
	rig.WaitState(t, messages.StateOnline, 1)
	say("alice", "live")
	srvClock.Set(Epoch.Add(-time.Minute))
	say("alice", "a minute behind")
	srvClock.Set(Epoch)
	if res := rig.Request(t, &messages.SendChat{Channel: channel, Msg: "mine"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	actortest.CheckFor(t, stampWait, "our echo", func() bool { return len(rig.Sink.Named("chatMsg")) == 4 })

	// A second socket: the burst replays the history again.
	if err := sb.Kick(channel, "dazbot", "again"); err != nil {
		t.Fatal(err)
	}
	rig.AdvanceTo(rig.WaitState(t, messages.StateBackingOff, 1).Until)
	actortest.CheckFor(t, stampWait, "online on the second socket", func() bool {
		for _, st := range rig.States() {
			if st.State == messages.StateOnline && st.Attempt == 2 {
				return true
			}
		}
		return false
	})
	say("alice", "live on the second socket")
	actortest.CheckFor(t, stampWait, "the second socket's line", func() bool { return len(rig.Sink.Named("chatMsg")) == 9 })

	want := []struct {
		text string
		stamp
	}{
		{"alice: an hour before the join", stamp{burst: true, backlog: true}},
		{"alice: live", stamp{}},
		{"alice: a minute behind", stamp{backlog: true}},
		{"dazbot: mine", stamp{own: true}},
		{"alice: an hour before the join", stamp{burst: true, backlog: true}},
		{"alice: live", stamp{burst: true, backlog: true}},
		{"alice: a minute behind", stamp{burst: true, backlog: true}},
		{"dazbot: mine", stamp{burst: true, backlog: true, own: true}},
		{"alice: live on the second socket", stamp{}},
	}
	var userlists int
	for _, ev := range rig.Sink.Events() {
		if _, ok := ev.Body.(*messages.UserList); ok {
			userlists++
			if ev.Burst {
				t.Fatalf("userlist %d stamped as in the burst", userlists)
			}
		}
	}
	if userlists < 2 {
		t.Fatalf("%d userlists, want at least one per socket", userlists)
	}
	for i, ev := range rig.Sink.Named("chatMsg") {
		c := ev.Body.(*messages.ChatMsg)
		got := fmt.Sprintf("%s: %s", c.Username, c.Text)
		if got != want[i].text || stampOf(ev) != want[i].stamp {
			raw, _ := json.Marshal(c)
			t.Errorf("chat %d %s = %q stamped %+v, want %q stamped %+v", i, raw, got, stampOf(ev), want[i].text, want[i].stamp)
		}
	}
}
