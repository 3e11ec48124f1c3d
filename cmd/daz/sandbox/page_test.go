package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestPageServesStableElements(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{Channels: []string{"Lobby", "other"}})
	cases := []struct {
		query, channel string
	}{
		{"", "lobby"},
		{"?channel=Other", "other"},
		{"?channel=%3Cscript%3E", "lobby"}, // invalid names fall back, never reach the page
	}
	for _, tc := range cases {
		status, ctype, body := get(t, s.URL()+"/"+tc.query)
		if status != 200 || ctype != "text/html; charset=utf-8" {
			t.Fatalf("GET /%s: %d %q", tc.query, status, ctype)
		}
		if !strings.Contains(body, `<body data-channel="`+tc.channel+`">`) {
			t.Errorf("GET /%s does not join %q", tc.query, tc.channel)
		}
		for _, id := range []string{"name", "login", "msg", "send", "chat", "users"} {
			if !strings.Contains(body, ` id="`+id+`"`) {
				t.Errorf("page lacks #%s", id)
			}
		}
		if strings.Contains(body, "<script src") || strings.Contains(body, "https://") {
			t.Error("page refers to external assets")
		}
	}
	if status, _, _ := get(t, s.URL()+"/nothing-here"); status != 404 {
		t.Errorf("unknown path: status %d", status)
	}
}

type pageSnapshot struct {
	Error string `json:"error"`
	Chat  []struct {
		ClassName string `json:"className"`
		User      string `json:"user"`
		HTML      string `json:"html"`
	} `json:"chat"`
	Users []string `json:"users"`
}

// TestPageScriptChatsThroughTheSandbox runs the page's own JavaScript in node
// against a live sandbox: it must join, log in as a guest, send a line and
// show the server's escaped HTML for it, with the guest in the user list.
func TestPageScriptChatsThroughTheSandbox(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	s := startServer(t, Options{})
	if err := s.Say("sandbox", "owner", "welcome <i>back</i>"); err != nil {
		t.Fatalf("Say: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	line := `<b>hi</b> & see https://example.invalid/?a=1&b=2`
	cmd := exec.CommandContext(ctx, node, "--experimental-websocket", "--no-warnings",
		"testdata/page_harness.js", s.URL(), "pageguest", line)
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		t.Skip("node has no WebSocket")
	}
	var snap pageSnapshot
	if jerr := json.Unmarshal(out, &snap); jerr != nil || err != nil || snap.Error != "" {
		t.Fatalf("harness: %v %v %s %s", err, jerr, snap.Error, out)
	}
	if len(snap.Chat) < 2 {
		t.Fatalf("chat lines %+v", snap.Chat)
	}
	if first := snap.Chat[0]; first.User != "owner" || first.HTML != "welcome &lt;i&gt;back&lt;/i&gt;" {
		t.Errorf("backlog line %+v", first)
	}
	last := snap.Chat[len(snap.Chat)-1]
	want := `&lt;b&gt;hi&lt;/b&gt; &amp; see <a href="https://example.invalid/?a=1&amp;b=2" target="_blank" ` +
		`rel="noopener noreferrer">https://example.invalid/?a=1&amp;b=2</a>`
	if last.User != "pageguest" || last.HTML != want || !strings.Contains(last.ClassName, "chat-line") {
		t.Errorf("own line %+v\nwant html %s", last, want)
	}
	if len(snap.Users) != 1 || snap.Users[0] != "pageguest" {
		t.Errorf("user list %v", snap.Users)
	}
}
