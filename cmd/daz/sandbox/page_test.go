package sandbox

import (
	"strings"
	"testing"
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
