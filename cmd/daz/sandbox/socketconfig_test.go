package sandbox

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

func TestHTTPEndpoints(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	base := s.URL()
	cases := []struct {
		name, path string
		status     int
		ctype      string
		body       string // exact, or a prefix when prefix is set
		prefix     bool
	}{
		{"socketconfig registered", "/socketconfig/sandbox.json", 200, "application/json; charset=utf-8",
			`{"servers":[{"url":"` + base + `","secure":false}]}`, false},
		{"socketconfig any valid name", "/socketconfig/Some-Other_chan.json", 200, "application/json; charset=utf-8",
			`{"servers":[{"url":"` + base + `","secure":false}]}`, false},
		{"socketconfig space", "/socketconfig/bad%20name.json", 404, "application/json; charset=utf-8",
			`{"error":"Channel \"bad name\" does not exist."}`, false},
		{"socketconfig 31 chars", "/socketconfig/" + strings.Repeat("x", 31) + ".json", 404,
			"application/json; charset=utf-8",
			`{"error":"Channel \"` + strings.Repeat("x", 31) + `\" does not exist."}`, false},
		{"polling handshake", "/socket.io/?EIO=4&transport=polling", 200, "text/plain; charset=UTF-8",
			`0{"sid":"`, true},
		{"polling with unknown sid", "/socket.io/?EIO=4&transport=polling&sid=abc", 400,
			"application/json; charset=utf-8", `{"code":1,"message":"Session ID unknown"}`, false},
		{"EIO3 refused", "/socket.io/?EIO=3&transport=polling", 400, "application/json; charset=utf-8",
			`{"code":5,"message":"Unsupported protocol version"}`, false},
		{"websocket without upgrade", "/socket.io/?EIO=4&transport=websocket", 400,
			"application/json; charset=utf-8", `{"code":0,"message":"Transport unknown"}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, ctype, body := get(t, base+tc.path)
			if status != tc.status || ctype != tc.ctype {
				t.Errorf("status %d %q, want %d %q", status, ctype, tc.status, tc.ctype)
			}
			if (tc.prefix && !strings.HasPrefix(body, tc.body)) || (!tc.prefix && body != tc.body) {
				t.Errorf("body %s, want %s", body, tc.body)
			}
		})
	}
}

func TestPollingHandshakeOffersWebsocket(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	_, _, body := get(t, s.URL()+"/socket.io/?EIO=4&transport=polling")
	want := `,"upgrades":["websocket"],"pingInterval":25000,"pingTimeout":120000,"maxPayload":1048576}`
	if !strings.HasSuffix(body, want) || len(body) != len(`0{"sid":"01234567890123456789"`)+len(want) {
		t.Errorf("polling body %s", body)
	}
}
