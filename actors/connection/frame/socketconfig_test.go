package frame

import (
	"errors"
	"strings"
	"testing"

	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
)

func TestParseSocketConfig(t *testing.T) {
	tests := []struct {
		name, body, want, wantErr string
	}{
		{"recorded", `{"servers":[{"url":"http://127.0.0.1:8080","secure":false}]}`, "http://127.0.0.1:8080", ""},
		{"secure preferred", `{"servers":[{"url":"http://a","secure":false},{"url":"https://b","secure":true}]}`, "https://b", ""},
		{"first insecure when none secure", `{"servers":[{"url":"http://a","secure":false},{"url":"http://b"}]}`, "http://a", ""},
		{"entries without url skipped", `{"servers":[{"secure":true},{"url":"http://b"}]}`, "http://b", ""},
		{"server error", `{"error":"Channel \"bad name\" does not exist."}`, "", `Channel "bad name" does not exist.`},
		{"no servers", `{"servers":[]}`, "", "no server"},
		{"empty object", `{}`, "", "no server"},
		{"not json", `<html>502</html>`, "", "socketconfig"},
		{"wrong types", `{"servers":"x"}`, "", "socketconfig"},
		{"empty body", ``, "", "socketconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSocketConfig([]byte(tt.body))
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %q, %v; want error containing %q", got, err, tt.wantErr)
			}
		})
	}
}

// The recorded discovery answers: 200 with servers for valid names, 404
// with the server's refusal for invalid ones.
func TestParseRecordedSocketConfig(t *testing.T) {
	checked := 0
	for _, name := range transcript.MustNames(t) {
		for _, l := range transcript.ByDir(transcript.MustLoad(t, name), transcript.DirHTTP) {
			if !strings.Contains(l.URL, "/socketconfig/") {
				continue
			}
			checked++
			got, err := ParseSocketConfig([]byte(l.Frame))
			switch *l.Status {
			case 200:
				if err != nil || got != "http://127.0.0.1:8080" {
					t.Errorf("%s %s: %q, %v", name, l.URL, got, err)
				}
				ws, err := WebsocketURL(got)
				if err != nil || ws != "ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket" {
					t.Errorf("WebsocketURL(%q) = %q, %v", got, ws, err)
				}
			case 404:
				var refused *SocketConfigError
				if !errors.As(err, &refused) || !strings.HasSuffix(refused.Message, "does not exist.") {
					t.Errorf("%s %s: %v", name, l.URL, err)
				}
			default:
				t.Errorf("%s %s: unexpected status %d", name, l.URL, *l.Status)
			}
		}
	}
	if checked < 4 {
		t.Fatalf("only %d socketconfig answers recorded", checked)
	}
}

func TestWebsocketURLMatchesRecordedOpen(t *testing.T) {
	lines := transcript.MustLoad(t, "login_ok")
	opens := transcript.Filter(lines, func(l transcript.Line) bool { return l.Event == "open" && l.Conn == "bot" })
	if len(opens) == 0 {
		t.Fatal("no recorded websocket open")
	}
	got, err := WebsocketURL("http://127.0.0.1:8080")
	if err != nil || got != opens[0].URL {
		t.Fatalf("WebsocketURL = %q, %v; the client opened %q", got, err, opens[0].URL)
	}
}

func TestWebsocketURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://cytu.be", "wss://cytu.be/socket.io/?EIO=4&transport=websocket"},
		{"https://cytu.be:8443/", "wss://cytu.be:8443/socket.io/?EIO=4&transport=websocket"},
		{"HTTP://Example.org:8080/some/path?x=1", "ws://Example.org:8080/socket.io/?EIO=4&transport=websocket"},
		{"wss://already.ws", "wss://already.ws/socket.io/?EIO=4&transport=websocket"},
		{" http://[::1]:8080 ", "ws://[::1]:8080/socket.io/?EIO=4&transport=websocket"},
	}
	for _, tt := range tests {
		if got, err := WebsocketURL(tt.in); err != nil || got != tt.want {
			t.Errorf("WebsocketURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "ftp://x", "127.0.0.1:8080", "http://", "http://a b", "//host"} {
		if got, err := WebsocketURL(bad); err == nil {
			t.Errorf("WebsocketURL(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParsePollingOpen(t *testing.T) {
	var recorded []string
	for _, name := range []string{"guest_join", "eio3_handshake"} {
		for _, l := range transcript.ByDir(transcript.MustLoad(t, name), transcript.DirHTTP) {
			if strings.Contains(l.URL, "transport=polling") {
				recorded = append(recorded, l.Frame)
			}
		}
	}
	if len(recorded) != 2 || !strings.HasPrefix(recorded[1], "119:0{") {
		t.Fatalf("recorded polling bodies: %q", recorded)
	}
	for _, body := range recorded {
		o, err := ParsePollingOpen([]byte(body))
		if err != nil {
			t.Fatalf("%.30q: %v", body, err)
		}
		if o.SID == "" || o.PingInterval != 25000 || len(o.Upgrades) != 1 || o.Upgrades[0] != "websocket" {
			t.Fatalf("%.30q: %+v", body, o)
		}
	}
	for _, bad := range []string{"", "12:0{}", "500:0{\"sid\":\"a\"}", "40", "x:0{}", `99999999999999999999:0{"sid":"a"}`} {
		if o, err := ParsePollingOpen([]byte(bad)); err == nil {
			t.Errorf("ParsePollingOpen(%q) = %+v", bad, o)
		}
	}
}
