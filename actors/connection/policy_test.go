package connection_test

import (
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/internal/testutil"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
	"github.com/daz-bot/daz/messages"
)

// typedByRecordingClient skips the chat commands the recording client typed.
func typedByRecordingClient(f string) bool { return strings.HasPrefix(f, `42["chatMsg"`) }

// Each kick reason and login failure in the recordings leads to its policy:
// stop (and say why), back off on the normal schedule, wait out the guest
// throttle, or cool down.
func TestRecordedFailuresFollowThePolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, file string
		replay     sandboxtest.ReplayOptions
		conn       connection.Config
		// socketConfigOK serves a valid socketconfig whatever the recording.
		socketConfigOK bool
		onlineFirst    bool
		// passwordGrace: logged in on a password channel, the connection
		// waits PasswordGrace for cancelNeedPassword before it gives up.
		passwordGrace bool
		state         messages.ConnState
		reason        string // substring of the reason / last error
		minWait       time.Duration
		maxWait       time.Duration
		// comesBack: after the wait a new socket is opened.
		comesBack bool
		check     func(t *testing.T, r *sandboxtest.Replay, rig *Rig)
	}{
		{
			name: "other kick: normal schedule", file: "kick_ban",
			replay:      sandboxtest.ReplayOptions{SkipOut: typedByRecordingClient},
			conn:        connection.Config{Username: "dazbot", Password: "dazbot-test-pw"},
			onlineFirst: true, state: messages.StateBackingOff, reason: "testing kick",
			minWait: 1600 * time.Millisecond, maxWait: 2 * time.Second, comesBack: true,
			check: func(t *testing.T, r *sandboxtest.Replay, rig *Rig) {
				rig.WaitState(t, messages.StateOnline, 2) // the recorded rejoin
			},
		},
		{
			name: "kick without a reason: normal schedule", file: "kick_ban",
			replay:      sandboxtest.ReplayOptions{Conn: "alice"},
			conn:        connection.Config{Username: "alice", Password: "alice-test-pw"},
			onlineFirst: true, state: messages.StateBackingOff, reason: string(connection.KindKicked),
			minWait: 1600 * time.Millisecond, maxWait: 2 * time.Second, comesBack: true,
		},
		{
			name: "ban kick: stop", file: "kick_ban",
			replay:      sandboxtest.ReplayOptions{Conn: "alice", FromSocket: 1},
			conn:        connection.Config{Username: "alice", Password: "alice-test-pw"},
			onlineFirst: true, state: messages.StateStopped, reason: "You're banned!",
		},
		{
			name: "banned on rejoin: stop", file: "kick_ban",
			replay:      sandboxtest.ReplayOptions{Conn: "alice", FromSocket: 2},
			conn:        connection.Config{Username: "alice", Password: "alice-test-pw"},
			onlineFirst: true, state: messages.StateStopped, reason: "You are banned from this channel.",
		},
		{
			name: "duplicate login: cooldown", file: "duplicate_login",
			replay:      sandboxtest.ReplayOptions{Conn: "bot_old"},
			conn:        connection.Config{Username: "dazbot", Password: "dazbot-test-pw"},
			onlineFirst: true, state: messages.StateCoolingDown, reason: "Duplicate login",
			minWait: 30 * time.Minute, maxWait: 30 * time.Minute, comesBack: true,
		},
		{
			name: "wrong password: stop, no second login", file: "login_bad_password",
			conn:  connection.Config{Username: "dazbot", Password: "wrong-password"},
			state: messages.StateStopped, reason: "Invalid username/password combination",
			check: func(t *testing.T, r *sandboxtest.Replay, rig *Rig) {
				logins := 0
				for _, f := range r.Socket(1).Received() {
					if strings.HasPrefix(f, `42["login"`) {
						logins++
					}
				}
				if logins != 1 {
					t.Fatalf("bot sent %d logins after a refusal, want 1", logins)
				}
				if strings.Contains(rig.Logs.String(), "wrong-password") {
					t.Fatal("the password appears in the log")
				}
			},
		},
		{
			name: "unknown user: stop", file: "login_bad_password",
			replay: sandboxtest.ReplayOptions{Conn: "nouser"},
			conn:   connection.Config{Username: "nosuchuser", Password: "whatever-test-pw"},
			state:  messages.StateStopped, reason: "User does not exist",
		},
		{
			name: "registered name as guest: stop", file: "login_bad_password",
			replay: sandboxtest.ReplayOptions{Conn: "guest_registered_name"},
			conn:   connection.Config{Username: "alice"},
			state:  messages.StateStopped, reason: "That username is registered.",
		},
		{
			name: "guest throttle: wait a minute", file: "guest_join",
			replay: sandboxtest.ReplayOptions{Conn: "guest2"},
			conn:   connection.Config{Username: "guest_carol"},
			state:  messages.StateBackingOff, reason: "one per IP address per 60 seconds",
			minWait: 60 * time.Second, maxWait: 65 * time.Second, comesBack: true,
		},
		{
			name: "connection rate limit: normal schedule", file: "conn_rate_limit",
			replay: sandboxtest.ReplayOptions{Conn: "c6"},
			conn:   connection.Config{Username: "dazbot", Password: "dazbot-test-pw"},
			state:  messages.StateBackingOff, reason: "Rate limit exceeded",
			minWait: 1600 * time.Millisecond, maxWait: 2 * time.Second, comesBack: true,
		},
		{
			name: "password channel without a password: stop", file: "channel_password",
			replay:      sandboxtest.ReplayOptions{AnyOrder: true},
			conn:        connection.Config{Channel: "pwchan", Username: "dazbot", Password: "dazbot-test-pw"},
			onlineFirst: true, passwordGrace: true, state: messages.StateStopped,
			reason: "channel needs a password; set cytube.channel_password",
		},
		{
			name: "password channel, wrong password: stop", file: "channel_password",
			replay: sandboxtest.ReplayOptions{AnyOrder: true, IgnorePassword: true},
			conn: connection.Config{Channel: "pwchan", Username: "dazbot", Password: "dazbot-test-pw",
				ChannelPassword: "wrong-chan-pw"},
			onlineFirst: true, passwordGrace: true, state: messages.StateStopped, reason: "channel password rejected",
			check: func(t *testing.T, r *sandboxtest.Replay, _ *Rig) {
				got := r.Socket(1).Received()
				if !contains(got, `42["joinChannel",{"name":"pwchan","pw":"wrong-chan-pw"}]`) ||
					!contains(got, `42["channelPassword","wrong-chan-pw"]`) {
					t.Fatalf("bot did not offer its channel password: %q", got)
				}
			},
		},
		{
			name: "invalid channel at discovery: stop before any socket", file: "unregistered_channel",
			conn:  connection.Config{Channel: "bad name", Username: "dazbot", Password: "dazbot-test-pw"},
			state: messages.StateStopped, reason: `Channel "bad name" does not exist.`,
			check: func(t *testing.T, r *sandboxtest.Replay, _ *Rig) {
				if n := r.Connections(); n != 0 {
					t.Fatalf("%d websockets for an invalid channel", n)
				}
			},
		},
		{
			name: "invalid channel on join: stop", file: "unregistered_channel",
			replay:         sandboxtest.ReplayOptions{Conn: "bad_space"},
			conn:           connection.Config{Channel: "bad name"},
			socketConfigOK: true,
			state:          messages.StateStopped, reason: "Invalid channel name",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			replay := sandboxtest.NewReplay(t, transcript.MustLoad(t, tc.file), tc.replay)
			if tc.socketConfigOK {
				sandboxtest.AnyChannelHere(replay.Server)
			}
			cfg := tc.conn
			if cfg.Channel == "" {
				cfg.Channel = "testchan"
			}
			cfg.ServerURL = replay.URL()
			rig := NewRig(t, RigConfig{Conn: cfg})
			if tc.onlineFirst {
				rig.WaitState(t, messages.StateOnline, 1)
			}
			if tc.passwordGrace {
				waitPasswordGrace(t, rig)
			}
			st := rig.WaitState(t, tc.state, 1)
			why := st.LastError
			if tc.state == messages.StateStopped {
				why = st.Reason
			}
			if !strings.Contains(why, tc.reason) {
				t.Fatalf("%s because %q, want %q", st.State, why, tc.reason)
			}
			// One line per failed attempt: the strategy's, not the connection's too.
			if n := strings.Count(rig.Logs.String(), "connection attempt failed"); n != 1 {
				t.Fatalf("%d log lines for one failed attempt:\n%s", n, rig.Logs.String())
			}
			for _, line := range strings.Split(rig.Logs.String(), "\n") {
				if (strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR")) &&
					!strings.Contains(line, "connection attempt failed") &&
					!strings.Contains(line, "server error message") { // the server's own errorMsg event
					t.Fatalf("a second warning for the failed attempt: %s", line)
				}
			}
			conns, gets := replay.Connections(), replay.SocketConfigRequests()
			if tc.state == messages.StateStopped {
				checkStopped(t, rig, tc.reason)
				if p := rig.Clock.Pending(); len(p) != 0 {
					t.Fatalf("timers pending after a stop: %v", p)
				}
				rig.AdvanceTo(st.At.Add(2 * time.Hour))
				if replay.Connections() != conns || replay.SocketConfigRequests() != gets {
					t.Fatal("stopped connection tried again")
				}
			} else {
				if node, ok := rig.NodeState(); !ok || node.State != tc.state || !node.Until.Equal(st.Until) {
					t.Fatalf("debug endpoint shows %+v (present %v), want %s until %v", node, ok, tc.state, st.Until)
				}
				if p := rig.Clock.Pending(); len(p) != 1 || !p[0].Equal(st.Until) {
					t.Fatalf("pending timers %v, want one restart at %v", p, st.Until)
				}
				delay := st.Until.Sub(st.At)
				if delay < tc.minWait || delay > tc.maxWait {
					t.Fatalf("waits %s, want between %s and %s", delay, tc.minWait, tc.maxWait)
				}
				rig.AdvanceTo(st.Until.Add(-time.Millisecond))
				if replay.SocketConfigRequests() != gets || len(rig.Clock.Pending()) != 1 {
					t.Fatal("attempt before the wait was over")
				}
				rig.AdvanceTo(st.Until)
				if tc.comesBack {
					testutil.CheckFor(t, wait, "next attempt", func() bool { return replay.SocketConfigRequests() == gets+1 })
				}
			}
			if tc.check != nil {
				tc.check(t, replay, rig)
			}
		})
	}
}

// checkStopped: the child is gone, the strategy keeps the reason for the
// debug endpoint and for the database.
func checkStopped(t *testing.T, rig *Rig, reason string) {
	t.Helper()
	testutil.CheckFor(t, wait, "connection actor stopped", func() bool { return rig.ConnPID() == nil })
	if st := rig.Strategy.Status(); st.State != messages.StateStopped || !strings.Contains(st.Reason, reason) {
		t.Fatalf("strategy status %+v", st)
	}
	if saved := rig.Strategy.Snapshot(); !strings.Contains(saved.StoppedReason, reason) {
		t.Fatalf("persisted stopped reason %q, want %q", saved.StoppedReason, reason)
	}
}

// waitPasswordGrace waits for the connection to start its grace for
// cancelNeedPassword, checks it has not given up yet, and lets it run out.
func waitPasswordGrace(t *testing.T, rig *Rig) {
	t.Helper()
	end := rig.Clock.Now().Add(connection.DefaultPasswordGrace)
	testutil.CheckFor(t, wait, "the password grace timer", func() bool {
		for _, p := range rig.Clock.Pending() {
			if p.Equal(end) {
				return true
			}
		}
		return false
	})
	if rig.CountStates(messages.StateStopped) != 0 {
		t.Fatal("stopped before the server had a chance to let the account in")
	}
	rig.AdvanceTo(end)
}
