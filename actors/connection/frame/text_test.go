package frame

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
	"github.com/daz-bot/daz/messages"
)

// Each case pairs a line alice sent in chat_and_presence.jsonl with the
// broadcast the bot received for it, and checks the recovered plain text.
func TestPlainTextOfRecordedChat(t *testing.T) {
	long := strings.Repeat("L", 10) + strings.Repeat(" This is a very long message.", 13)
	tests := []struct {
		name     string
		sent     string // prefix of the msg alice sent
		wantText string // "" means: exactly what was sent
		wantHTML string // substring the server's msg must contain, proving the case is not trivial
		wantMeta string // substring of the meta the server attached
	}{
		{name: "plain", sent: "hello everyone"},
		{name: "unicode", sent: "unicode: héllo wörld"},
		{name: "emoji", sent: "emoji: 🎉😀👍🏽"},
		{name: "html specials escaped once", sent: "html: <b>bold</b>", wantHTML: "&lt;b&gt;bold&lt;/b&gt; &amp; &amp;amp;"},
		{name: "400 chars truncated to 320 before escaping", sent: "LLLLLLLLLL This is", wantText: long[:320]},
		{name: "/me becomes action meta", sent: "/me waves", wantText: "waves at everyone", wantMeta: `"action":true`},
		{name: "command", sent: "!help"},
		{name: "command with args", sent: "!seen alice"},
		{name: "links", sent: "link: http://127.0.0.1:8080/r/testchan", wantHTML: `<a href="https://example.invalid/x?a=1&amp;b=2"`},
		{name: "greentext", sent: ">greentext", wantHTML: "&gt;greentext line", wantMeta: `"greentext"`},
		{name: "control characters", sent: "tab\there", wantText: "tab here and control char"},
	}
	lines := transcript.MustLoad(t, "chat_and_presence")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent, got := recordedEcho(t, lines, tt.sent)
			want := tt.wantText
			if want == "" {
				want = sent
			}
			if got.Text != want {
				t.Fatalf("Text = %q\nwant   %q\n(msg %q)", got.Text, want, got.Msg)
			}
			if !strings.Contains(got.Msg, tt.wantHTML) || !strings.Contains(string(got.Meta), tt.wantMeta) {
				t.Fatalf("server msg %q meta %s lacks %q / %q", got.Msg, got.Meta, tt.wantHTML, tt.wantMeta)
			}
		})
	}
}

// recordedEcho finds alice's outgoing chatMsg starting with prefix and the
// first chatMsg from alice the bot received after it.
func recordedEcho(t *testing.T, lines []transcript.Line, prefix string) (string, *messages.ChatMsg) {
	t.Helper()
	for i, l := range lines {
		if l.Conn != "alice" || l.Dir != transcript.DirOut {
			continue
		}
		p, err := Parse([]byte(l.Frame))
		if err != nil || p.Name != "chatMsg" {
			continue
		}
		var out struct{ Msg string }
		if err := json.Unmarshal(p.Payload(), &out); err != nil || !strings.HasPrefix(out.Msg, prefix) {
			continue
		}
		for _, in := range lines[i+1:] {
			if in.Conn != "bot" || in.Dir != transcript.DirIn {
				continue
			}
			ip, err := Parse([]byte(in.Frame))
			if err != nil || ip.Name != "chatMsg" {
				continue
			}
			ev, err := EventFromPacket("testchan", 1, time.Time{}, &ip)
			if err != nil {
				t.Fatal(err)
			}
			if m := ev.Body.(*messages.ChatMsg); m.Username == "alice" {
				return out.Msg, m
			}
		}
		t.Fatalf("no echo of %q", prefix)
	}
	t.Fatalf("alice never sent %q", prefix)
	return "", nil
}

func TestPlainText(t *testing.T) {
	tests := []struct{ name, html, want string }{
		{"empty", "", ""},
		{"plain", "hello", "hello"},
		{"entities once", "&lt;b&gt; &amp;amp; &quot;", `<b> &amp; "`},
		{"numeric entities", "&#39;&#x1F389;", "'🎉"},
		{"unknown entity kept", "&bogus; & x", "&bogus; & x"},
		{"shrug from big_channel", `¯\<em>(ツ)</em>/¯`, `¯\(ツ)/¯`},
		{"link", `go <a href="https://e.x/?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">https://e.x/?a=1&amp;b=2</a> now`,
			"go https://e.x/?a=1&b=2 now"},
		{"quoted > in attribute", `<a title="a>b" href='c>d'>x</a>`, "x"},
		{"unquoted attribute", `<span class=x>y</span>`, "y"},
		{"nested formatting", "<strong><em>hi</em></strong> <s>x</s> <code>y</code>", "hi x y"},
		{"comment", "a<!-- <b> -->b", "ab"},
		{"doctype-like", "a<!x>b", "ab"},
		{"literal lt before digit", "1 <2 and 3 < 4", "1 <2 and 3 < 4"},
		{"literal lt at end", "x <", "x <"},
		{"lone slash", "a </ b", "a </ b"},
		{"unterminated tag kept", "a <b c", "a <b c"},
		{"unterminated quote kept", `a <b c="d>e`, `a <b c="d>e`},
		{"unterminated comment kept", "a <!-- b", "a <!-- b"},
		{"unterminated markup ends tag search", `a <b c="d>e <em>x</em> &amp;`, `a <b c="d>e <em>x</em> &`},
		{"tags do not join escaped text", "&lt;<em>b</em>&gt;", "<b>"},
		{"escaped tag is text", "&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"},
		{"invalid utf8 passes through", "a\xffb", "a\xffb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlainText(tt.html); got != tt.want {
				t.Fatalf("PlainText(%q) = %q, want %q", tt.html, got, tt.want)
			}
		})
	}
}

func TestPlainTextWithoutMarkupDoesNotAllocate(t *testing.T) {
	msg := "unicode: héllo wörld — naïve café, 日本語テキスト"
	allocs := testing.AllocsPerRun(100, func() { _ = PlainText(msg) })
	if allocs != 0 {
		t.Fatalf("PlainText allocated %v times for a line without markup", allocs)
	}
}
