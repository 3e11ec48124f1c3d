package connection_test

import (
	"encoding/json"
	"testing"

	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/internal/testutil"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
	"github.com/daz-bot/daz/messages"
)

// Every chat line the server delivered reaches the sink as a *ChatMsg with
// the recorded user, HTML, meta and server time, and the plain text used
// for commands.
func TestChatLinesReachTheSinkWithTheirFields(t *testing.T) {
	t.Parallel()
	lines := transcript.MustLoad(t, "chat_and_presence")
	replay := sandboxtest.NewReplay(t, lines, sandboxtest.ReplayOptions{
		AnyOrder: true,
		// Lines the recording bot typed; not part of this test.
		SkipOut: func(f string) bool { return f != "41" && f != "40" && !isJoinOrLogin(f) },
	})
	rig := NewRig(t, RigConfig{Conn: connection.Config{
		Channel: "testchan", ServerURL: replay.URL(), Username: "dazbot", Password: "dazbot-test-pw",
	}})
	testutil.CheckFor(t, wait, "replay waits for our 41", func() bool { return replay.Waiting() == "41" })

	type recordedChat struct {
		Username string          `json:"username"`
		Msg      string          `json:"msg"`
		Meta     json.RawMessage `json:"meta"`
		Time     int64           `json:"time"`
	}
	var want []recordedChat
	for _, ev := range events(replay.Socket(1).Sent()) {
		if ev.name == "chatMsg" {
			var c recordedChat
			if err := json.Unmarshal([]byte(ev.payload), &c); err != nil {
				t.Fatal(err)
			}
			want = append(want, c)
		}
	}
	// 3 replayed in the burst, 13 live lines, 1 [server] notice.
	if len(want) != 17 {
		t.Fatalf("replay delivered %d chat lines; the recording has 17", len(want))
	}
	testutil.CheckFor(t, wait, "every chat line in the sink", func() bool { return len(rig.Sink.Named("chatMsg")) == len(want) })

	var lastSeq uint64
	for i, ev := range rig.Sink.Named("chatMsg") {
		c, ok := ev.Body.(*messages.ChatMsg)
		if !ok {
			t.Fatalf("chat %d has body %T", i, ev.Body)
		}
		w := want[i]
		if c.Username != w.Username || c.Msg != w.Msg || c.Time != w.Time || string(c.Meta) != string(w.Meta) {
			t.Fatalf("chat %d = %+v, server sent %+v", i, c, w)
		}
		if ev.Channel != "testchan" || ev.Seq <= lastSeq || ev.Received.IsZero() {
			t.Fatalf("chat %d stamped channel=%q seq=%d (previous %d) received=%v", i, ev.Channel, ev.Seq, lastSeq, ev.Received)
		}
		lastSeq = ev.Seq
	}

	plain := map[string]string{}
	for _, ev := range rig.Sink.Named("chatMsg") {
		c := ev.Body.(*messages.ChatMsg)
		plain[c.Msg] = c.Text
	}
	for html, text := range map[string]string{
		`html: &lt;b&gt;bold&lt;/b&gt; &amp; &amp;amp; "double" 'single' &lt;script&gt;alert(1)&lt;/script&gt;`: `html: <b>bold</b> & &amp; "double" 'single' <script>alert(1)</script>`,
		`&gt;greentext line`: `>greentext line`,
		`!seen alice`:        `!seen alice`,
	} {
		if got, ok := plain[html]; !ok || got != text {
			t.Errorf("plain text of %q = %q (present %v), want %q", html, got, ok, text)
		}
	}
}

func isJoinOrLogin(f string) bool {
	return len(f) > 16 && (f[:16] == `42["joinChannel"` || f[:10] == `42["login"`)
}
