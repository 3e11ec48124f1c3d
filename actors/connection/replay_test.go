package connection_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/actors/internal/testutil"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
	"github.com/daz-bot/daz/messages"
)

const wait = 10 * time.Second

// The bot passes the recorded sessions: it sends 40, joinChannel and login
// in order, writes chat and PMs exactly as recorded, pongs every ping, and
// says 41 when stopped. The replay server checks each client frame against
// the recording.
func TestBotPassesRecordedSessions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file, conn         string
		channel, chanPW    string
		fromSocket         int
		username, password string
		anyOrder           bool
		// sends are what the recording client sent once online.
		sends []any
		// first are the client's first frames, in order.
		first []string
	}{
		{
			file: "login_ok", conn: "bot", username: "dazbot", password: "dazbot-test-pw",
			sends: []any{
				&messages.SendChat{Channel: "testchan", Msg: "hello from dazbot"},
				&messages.SendPM{Channel: "testchan", To: "alice", Msg: "hi alice, this is a private message"},
			},
			first: []string{"40", `42["joinChannel",{"name":"testchan"}]`, `42["login",{"name":"dazbot","pw":"dazbot-test-pw"}]`},
		},
		{
			file: "guest_join", conn: "guest", username: "guest_bob",
			sends: []any{&messages.SendChat{Msg: "hi, I am a guest"}},
			first: []string{"40", `42["joinChannel",{"name":"testchan"}]`, `42["login",{"name":"guest_bob"}]`},
		},
		{
			// The recording logged in before joining; daz joins first, which
			// the server accepts in either order.
			file: "chat_and_presence", conn: "bot", username: "dazbot", password: "dazbot-test-pw", anyOrder: true,
			sends: []any{
				&messages.SendPM{To: "alice", Msg: "Commands: !help, !seen <user>"},
				&messages.SendChat{Msg: "alice was last seen just now"},
			},
			first: []string{"40", `42["joinChannel",{"name":"testchan"}]`, `42["login",{"name":"dazbot","pw":"dazbot-test-pw"}]`},
		},
		{
			// The second recorded socket joins with the channel password.
			file: "channel_password", conn: "bot", channel: "pwchan", chanPW: "chan-test-pw", fromSocket: 1,
			username: "dazbot", password: "dazbot-test-pw",
			first: []string{"40", `42["joinChannel",{"name":"pwchan","pw":"chan-test-pw"}]`, `42["login",{"name":"dazbot","pw":"dazbot-test-pw"}]`},
		},
		{
			file: "ping", conn: "bot", username: "dazbot", password: "dazbot-test-pw",
			first: []string{"40", `42["joinChannel",{"name":"testchan"}]`, `42["login",{"name":"dazbot","pw":"dazbot-test-pw"}]`, "3", "3"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			lines := transcript.MustLoad(t, tc.file)
			replay := sandboxtest.NewReplay(t, lines, sandboxtest.ReplayOptions{Conn: tc.conn, AnyOrder: tc.anyOrder, FromSocket: tc.fromSocket})
			channel := tc.channel
			if channel == "" {
				channel = "testchan"
			}
			rig := NewRig(t, RigConfig{Conn: connection.Config{
				Channel: channel, ServerURL: replay.URL(), Username: tc.username, Password: tc.password,
				ChannelPassword: tc.chanPW,
			}})
			online := rig.WaitState(t, messages.StateOnline, 1)
			if online.Username != tc.username || online.Attempt != 1 {
				t.Fatalf("online state = %+v", online)
			}
			for _, m := range tc.sends {
				if res := rig.Request(t, m); res.Err != nil {
					t.Fatalf("send %T: %v", m, res.Err)
				}
			}
			// Everything recorded up to our goodbye has been played.
			testutil.CheckFor(t, wait, "replay waits for our 41", func() bool { return replay.Waiting() == "41" })
			conn := replay.Socket(1)
			wantEvents := events(conn.Sent())
			testutil.CheckFor(t, wait, "all events reach the sink", func() bool { return len(rig.Sink.Events()) >= len(wantEvents) })
			rig.Stop(t)
			testutil.CheckFor(t, wait, "replay complete", func() bool { return replay.Completed() == 1 })

			if m := replay.Mismatches(); len(m) > 0 {
				t.Fatalf("client frames differ from the recording:\n%s", strings.Join(m, "\n"))
			}
			got := conn.Received()
			if len(got) < len(tc.first) {
				t.Fatalf("client sent %q, want it to start with %q", got, tc.first)
			}
			for i, want := range tc.first {
				if got[i] != want {
					t.Fatalf("client frame %d = %q, want %q (all: %q)", i, got[i], want, got)
				}
			}
			if last := got[len(got)-1]; last != "41" {
				t.Fatalf("last client frame = %q, want 41", last)
			}
			for _, m := range tc.sends {
				if want := recordedOut(t, lines, tc.conn, m); !contains(got, want) {
					t.Fatalf("client never sent the recorded frame %s; sent %q", want, got)
				}
			}
			checkSinkGotEverything(t, rig, channel, wantEvents)
			if tc.password != "" && strings.Contains(rig.Logs.String(), tc.password) {
				t.Fatal("the password appears in the log")
			}
		})
	}
}

// recordedOut finds the recorded client frame for a send, so the check is
// against the recording's exact bytes, not against our own encoder.
func recordedOut(t *testing.T, lines []transcript.Line, conn string, m any) string {
	t.Helper()
	var needle string
	switch s := m.(type) {
	case *messages.SendChat:
		needle = `42["chatMsg",{"msg":` + jsonString(s.Msg)
	case *messages.SendPM:
		needle = `42["pm",{"to":` + jsonString(s.To) + `,"msg":` + jsonString(s.Msg)
	}
	for _, f := range transcript.Frames(lines, conn, transcript.DirOut) {
		if strings.HasPrefix(f, needle) {
			return f
		}
	}
	t.Fatalf("no recorded frame starts with %s", needle)
	return ""
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(b))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type wireEvent struct {
	name    string
	payload string
}

// events lists the 42[...] frames of a server's output.
func events(sent []string) []wireEvent {
	var out []wireEvent
	for _, f := range sent {
		p, err := frame.Parse([]byte(f))
		if err != nil || p.Type != frame.TypeEvent {
			continue
		}
		out = append(out, wireEvent{name: p.Name, payload: string(p.Payload())})
	}
	return out
}

// checkSinkGotEverything: the sink holds exactly the server's events, in
// order, numbered from 1, stamped with the channel and the clock.
func checkSinkGotEverything(t *testing.T, rig *Rig, channel string, want []wireEvent) {
	t.Helper()
	got := rig.Sink.Events()
	if len(got) != len(want) {
		t.Fatalf("sink got %d events, server sent %d", len(got), len(want))
	}
	for i, ev := range got {
		if ev.Name != want[i].name || string(ev.Raw) != want[i].payload {
			t.Fatalf("event %d = %s %s, server sent %s %s", i, ev.Name, ev.Raw, want[i].name, want[i].payload)
		}
		if ev.Seq != uint64(i+1) || ev.Channel != channel || !ev.Received.Equal(rig.Clock.Now()) {
			t.Fatalf("event %d stamped seq=%d channel=%q received=%v", i, ev.Seq, ev.Channel, ev.Received)
		}
		if ev.Body == nil {
			t.Fatalf("event %d (%s) has no body", i, ev.Name)
		}
	}
}
