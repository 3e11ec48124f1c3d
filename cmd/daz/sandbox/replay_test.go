package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
)

// recordedAccounts are the throwaway accounts of testdata/frames/README.md.
func recordedAccounts() map[string]Account {
	return map[string]Account{
		"owner1": {Password: "owner1-test-pw", Rank: 5},
		"dazbot": {Password: "dazbot-test-pw", Rank: 2},
		"alice":  {Password: "alice-test-pw", Rank: 1},
	}
}

// recordedOrigin is the server the transcripts were captured from.
const recordedOrigin = "http://127.0.0.1:8080"

// TestReplayTranscripts plays every client frame of a recording against the
// sandbox and requires each client to receive what CyTube sent it: the same
// events in the same order with the same payloads, down to the chat HTML.
// Only values that cannot match are blanked: sids, chat timestamps, cloaked
// IPs. usercount is throttled on CyTube and ignored on both sides.
func TestReplayTranscripts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file string
		// stopBefore ends the replay at the first client frame containing it,
		// where the recording moves on to features the sandbox lacks.
		stopBefore string
		opts       func(*Options)
		// minCompared guards against a replay that checks nothing; default 20.
		minCompared int
	}{
		{file: "login_ok"},
		{file: "login_bad_password"},
		{file: "guest_join", opts: func(o *Options) { o.GuestLoginInterval = 60 * time.Second }},
		{file: "chat_and_presence"},
		{file: "flood"},
		{file: "duplicate_login"},
		{file: "unregistered_channel"},
		{file: "misc_errors"},
		{file: "ping"},
		{file: "kick_ban"},
		{file: "conn_rate_limit", minCompared: 19, opts: func(o *Options) {
			o.ConnectBurst, o.ConnectInterval = CyTubeConnectBurst, CyTubeConnectInterval
		}},
		{file: "rank_change", opts: func(o *Options) { o.Accounts["dazbot"] = Account{Password: "dazbot-test-pw", Rank: 1} }},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			opts := Options{Channels: []string{"testchan", "pwchan"}, Accounts: recordedAccounts(), Clock: clock}
			if tc.opts != nil {
				tc.opts(&opts)
			}
			s := startServer(t, opts)
			r := &replayer{t: t, srv: s, clock: clock, base: clock.Now(), clients: map[string]*testClient{},
				want: map[string][]string{}, seen: map[string]bool{}}
			if tc.minCompared == 0 {
				tc.minCompared = 20
			}
			r.run(transcript.MustLoad(t, tc.file), tc.stopBefore, tc.minCompared)
		})
	}
}

type replayer struct {
	t       *testing.T
	srv     *Server
	clock   *clock.Fake
	base    time.Time
	clients map[string]*testClient
	// want holds, per recorded conn, the frames it got since the last check.
	want map[string][]string
	seen map[string]bool // channels whose backlog has been seeded
	// compared counts the frames checked, so a replay that checks nothing
	// cannot pass.
	compared int
}

func (r *replayer) run(lines []transcript.Line, stopBefore string, minCompared int) {
	for i, l := range lines {
		if l.Dir == "out" && stopBefore != "" && strings.Contains(l.Frame, stopBefore) {
			break
		}
		switch {
		case l.Dir == "in":
			if !ignoredFrame(l.Frame) {
				r.want[l.Conn] = append(r.want[l.Conn], l.Frame)
			}
		case l.Dir == "out" && l.Frame == frame.FramePong:
			// our heartbeat runs on its own schedule
		case l.Dir == "out":
			r.verify()
			// Only now, with every earlier frame answered, may time move on.
			r.clock.Set(r.base.Add(time.Duration(l.TMs) * time.Millisecond))
			if strings.Contains(l.Frame, `"joinChannel"`) {
				r.seedBacklog(lines[i:], l.Conn)
			}
			r.client(l.Conn).send(l.Frame)
		case l.Dir == "http":
			r.verify()
			r.checkHTTP(l)
		case l.Dir == "ws" && l.Event == "open":
			r.verify()
			r.clients[l.Conn] = dial(r.t, r.srv)
		case l.Dir == "ws" && l.Event == "close" && l.Code != websocket.CloseNormalClosure:
			// The server closed this one: wait for it and check how.
			r.verify()
			c := r.client(l.Conn)
			checkFor(r.t, waitTimeout, l.Conn+" closed by the server", c.closed)
			if !websocket.IsCloseError(c.readErr, l.Code) {
				r.t.Errorf("%s closed with %v, recorded code %d", l.Conn, c.readErr, l.Code)
			}
		case l.Dir == "ws" && l.Event == "close":
			r.verify()
			r.client(l.Conn).close()
		}
	}
	r.verify()
	r.t.Logf("compared %d frames on %d sockets", r.compared, len(r.clients))
	if r.compared < minCompared {
		r.t.Errorf("only %d frames compared: the transcript was not really replayed", r.compared)
	}
	for conn, c := range r.clients {
		if extra := filterFrames(c.frames())[c.next:]; len(extra) > 0 {
			r.t.Errorf("%s got frames the recording does not have: %q", conn, extra)
		}
	}
}

func (r *replayer) client(conn string) *testClient {
	c, ok := r.clients[conn]
	if !ok {
		r.t.Fatalf("transcript uses conn %q before opening it", conn)
	}
	return c
}

// ignoredFrame drops what cannot line up: CyTube's throttled usercount and
// heartbeat pings, which run on their own timers.
func ignoredFrame(frame string) bool {
	return frame == "2" || eventName(frame) == "usercount"
}

func filterFrames(frames []string) []string {
	out := frames[:0:0]
	for _, f := range frames {
		if !ignoredFrame(f) {
			out = append(out, f)
		}
	}
	return out
}

// verify waits until every client has the frames the recording says it got
// by now and compares them in order. testClient.next counts filtered frames.
func (r *replayer) verify() {
	r.t.Helper()
	for conn, want := range r.want {
		if len(want) == 0 {
			continue
		}
		c := r.client(conn)
		var got []string
		poll(waitTimeout, func() bool {
			got = filterFrames(c.frames())[c.next:]
			return len(got) >= len(want)
		})
		for i, w := range want {
			if i >= len(got) {
				r.t.Fatalf("%s: frame %d never came\nwant %s\n(all wanted: %q)\n(got: %q)", conn, i, w, want, got)
			}
			if normalizeFrame(got[i]) != normalizeFrame(w) {
				r.t.Fatalf("%s: frame %d differs\n got %s\nwant %s\n(all wanted: %q)\n(got: %q)",
					conn, i, got[i], w, want, got)
			}
		}
		c.next += len(want)
		r.compared += len(want)
		r.want[conn] = nil
	}
}

// seedBacklog gives a channel the chat history the recorded server had, taken
// from the first join burst for that channel, so replayed chatMsg lines in
// bursts can be compared too.
func (r *replayer) seedBacklog(rest []transcript.Line, conn string) {
	var req struct{ Name string }
	if json.Unmarshal(eventPayload(rest[0].Frame), &req) != nil || !validChannelName(req.Name) {
		return
	}
	name := strings.ToLower(req.Name)
	if r.seen[name] {
		return
	}
	r.seen[name] = true
	var backlog []chatMsg
	inBurst := false
	for _, l := range rest[1:] {
		if l.Conn != conn || l.Dir != "in" {
			continue
		}
		switch eventName(l.Frame) {
		case "emoteList":
			inBurst = true
		case "chatMsg":
			if inBurst {
				var m chatMsg
				mustUnmarshal(r.t, eventPayload(l.Frame), &m)
				backlog = append(backlog, m)
			}
		case "drinkCount", "userlist", "kick":
			if len(backlog) > 0 {
				r.srv.mu.Lock()
				ch := r.srv.channelFor(name)
				for _, m := range backlog {
					ch.remember(m)
				}
				r.srv.mu.Unlock()
			}
			return
		}
	}
}

func (r *replayer) checkHTTP(l transcript.Line) {
	r.t.Helper()
	url := r.srv.URL() + strings.TrimPrefix(l.URL, recordedOrigin)
	req, err := http.NewRequestWithContext(r.t.Context(), http.MethodGet, url, nil)
	if err != nil {
		r.t.Fatalf("request %s: %v", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("read %s: %v", url, err)
	}
	if l.Status == nil || resp.StatusCode != *l.Status {
		r.t.Errorf("GET %s: status %d, recorded %v", url, resp.StatusCode, l.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != l.ContentType {
		r.t.Errorf("GET %s: content type %q, recorded %q", url, ct, l.ContentType)
	}
	wantBody := strings.ReplaceAll(l.Frame, recordedOrigin, r.srv.URL())
	if normalizeFrame(string(body)) != normalizeFrame(wantBody) {
		r.t.Errorf("GET %s:\n got %s\nwant %s", url, body, wantBody)
	}
}

// normalizeFrame renders a frame with its JSON canonicalized (sorted keys)
// and the values that differ per run blanked.
func normalizeFrame(frame string) string {
	prefix := frame[:len(frame)-len(strings.TrimLeft(frame, "0123456789"))]
	if len(frame) == len(prefix) {
		return frame
	}
	var v any
	if err := json.Unmarshal([]byte(frame[len(prefix):]), &v); err != nil {
		return frame
	}
	return prefix + string(mustJSON(blankVolatile(v, "")))
}

func blankVolatile(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = blankVolatile(val, k)
		}
		return x
	case []any:
		for i, val := range x {
			x[i] = blankVolatile(val, "")
		}
		return x
	case float64:
		switch key {
		case "time":
			return "<time>"
		case "id":
			return "<id>" // ban ids are database ids on CyTube
		}
	case string:
		switch key {
		case "sid":
			return "<sid>"
		case "ip":
			return "<ip>"
		}
	}
	return v
}
