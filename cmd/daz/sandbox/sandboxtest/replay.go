package sandboxtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
)

// RecordedOrigin is the server address in the recordings; replayed HTTP
// bodies point at the test server instead.
const RecordedOrigin = "http://127.0.0.1:8080"

// ReplayOptions choose what to replay and how strictly.
type ReplayOptions struct {
	// Conn is the recorded connection to play (default "bot"). Each new
	// websocket plays the next socket of it (a "ws open" line starts one).
	Conn string
	// FromSocket skips that many recorded sockets first.
	FromSocket int
	// IgnorePassword compares login/joinChannel payloads without "pw" and
	// accepts any channelPassword, so a test need not use recorded secrets.
	IgnorePassword bool
	// AnyOrder lets a recorded client frame match any frame the client has
	// sent and the replay has not used yet, not only the oldest one.
	AnyOrder bool
	// SkipOut names recorded client frames the replay must not wait for
	// (commands the recording client typed that the test does not send).
	SkipOut func(recorded string) bool
}

// Replay is a server replaying one recorded connection: it sends the
// recorded "in" frames and waits where the recording has "out" frames until
// the client sends a matching frame.
type Replay struct {
	*sandbox.Server
	opts    ReplayOptions
	sockets [][]transcript.Line

	rmu        sync.Mutex
	next       int
	done       int
	waiting    string
	mismatches []string
}

// NewReplay starts a replay server for lines (one transcript file). Every
// recorded HTTP response is served at its recorded path, in whichever
// connection it appears; other channels get a socketconfig pointing here.
func NewReplay(t testing.TB, lines []transcript.Line, opts ReplayOptions) *Replay {
	t.Helper()
	if opts.Conn == "" {
		opts.Conn = "bot"
	}
	r := &Replay{opts: opts, sockets: splitSockets(transcript.ByConn(lines, opts.Conn))}
	if opts.FromSocket > 0 {
		r.sockets = r.sockets[min(opts.FromSocket, len(r.sockets)):]
	}
	if len(r.sockets) == 0 {
		t.Fatalf("sandboxtest: transcript has no socket for conn %q from %d", opts.Conn, opts.FromSocket)
	}
	r.Server = Start(t, sandbox.Options{Hooks: sandbox.Hooks{
		Script: func(int) sandbox.SocketScript { return r.play },
	}})
	recorded := recordedHTTP(lines, r.URL())
	r.SetSocketConfig(func(channel string) (int, string, bool) {
		if resp, ok := recorded["/socketconfig/"+channel+".json"]; ok {
			return resp.status, resp.body, true
		}
		return http.StatusOK, `{"servers":[{"url":"` + r.URL() + `","secure":false}]}`, true
	})
	return r
}

// Sockets is the number of recorded sockets this replay serves.
func (r *Replay) Sockets() int { return len(r.sockets) }

// Completed is the number of recorded sockets played to their end.
func (r *Replay) Completed() int {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	return r.done
}

// Waiting is the recorded client frame the replay waits for ("" if none).
func (r *Replay) Waiting() string {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	return r.waiting
}

// Mismatches lists client frames that differed from the recording.
func (r *Replay) Mismatches() []string {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	return append([]string(nil), r.mismatches...)
}

// InFrames returns the recorded server frames of socket i (0-based, after
// FromSocket).
func (r *Replay) InFrames(i int) []string {
	return transcript.Frames(r.sockets[i], "", transcript.DirIn)
}

func (r *Replay) play(c *sandbox.Socket) {
	r.rmu.Lock()
	if r.next >= len(r.sockets) {
		r.rmu.Unlock()
		return // nothing recorded for another socket: close it
	}
	lines := r.sockets[r.next]
	r.next++
	r.rmu.Unlock()

	pongs := 0
	for _, l := range lines {
		switch l.Dir {
		case transcript.DirIn:
			if c.Send(l.Frame) != nil {
				return
			}
		case transcript.DirOut:
			if l.Frame == frame.FramePong {
				pongs++
				if !r.await(l.Frame, func() error { return c.WaitPongs(pongs, sandbox.Forever) }) {
					return
				}
				continue
			}
			if r.opts.SkipOut != nil && r.opts.SkipOut(l.Frame) {
				continue
			}
			if !r.expect(c, l.Frame) {
				return
			}
		case transcript.DirWS:
			if !r.lifecycle(c, l) {
				return
			}
		}
	}
	r.rmu.Lock()
	r.done++
	r.rmu.Unlock()
	<-c.Done()
}

// expect waits for the client frame matching recorded.
func (r *Replay) expect(c *sandbox.Socket, recorded string) bool {
	var got string
	ok := r.await(recorded, func() error {
		var err error
		if r.opts.AnyOrder {
			got, err = c.Take(func(f string) bool { return FramesMatch(recorded, f, r.opts.IgnorePassword) }, sandbox.Forever)
		} else {
			got, err = c.Next(sandbox.Forever)
		}
		return err
	})
	if ok && !FramesMatch(recorded, got, r.opts.IgnorePassword) {
		r.rmu.Lock()
		r.mismatches = append(r.mismatches, fmt.Sprintf("want %s, got %s", clip(recorded), clip(got)))
		r.rmu.Unlock()
	}
	return ok
}

func (r *Replay) await(what string, wait func() error) bool {
	r.rmu.Lock()
	r.waiting = what
	r.rmu.Unlock()
	err := wait()
	r.rmu.Lock()
	r.waiting = ""
	r.rmu.Unlock()
	return err == nil
}

// lifecycle replays a recorded socket event. A close with code 1000 came
// from the recording client, so the replay waits for ours to close; other
// closes and errors were the server or network, so the replay drops.
func (r *Replay) lifecycle(c *sandbox.Socket, l transcript.Line) bool {
	switch l.Event {
	case "close":
		if l.Code == 1000 {
			return r.await("close", func() error { <-c.Done(); return nil })
		}
		c.Drop()
		return false
	case "error":
		c.Drop()
		return false
	}
	return true
}

// FramesMatch reports whether a client frame got matches the recorded one:
// equal text, or the same event with equal JSON payloads (key order aside),
// passwords aside when ignorePassword is set.
func FramesMatch(recorded, got string, ignorePassword bool) bool {
	if recorded == got {
		return true
	}
	rp, err1 := frame.Parse([]byte(recorded))
	gp, err2 := frame.Parse([]byte(got))
	if err1 != nil || err2 != nil || rp.Type != frame.TypeEvent || gp.Type != frame.TypeEvent || rp.Name != gp.Name {
		return false
	}
	if ignorePassword && rp.Name == "channelPassword" {
		return true
	}
	var rv, gv any
	if json.Unmarshal(rp.Payload(), &rv) != nil || json.Unmarshal(gp.Payload(), &gv) != nil {
		return len(rp.Payload()) == 0 && len(gp.Payload()) == 0
	}
	if ignorePassword {
		for _, v := range []any{rv, gv} {
			if m, ok := v.(map[string]any); ok {
				delete(m, "pw")
			}
		}
	}
	return reflect.DeepEqual(rv, gv)
}

// splitSockets cuts one connection's lines at every "ws open".
func splitSockets(lines []transcript.Line) [][]transcript.Line {
	var out [][]transcript.Line
	for _, l := range lines {
		if l.Dir == transcript.DirWS && l.Event == "open" {
			out = append(out, nil)
		}
		if len(out) > 0 && l.Dir != transcript.DirHTTP {
			out[len(out)-1] = append(out[len(out)-1], l)
		}
	}
	return out
}

type httpResponse struct {
	status int
	body   string
}

// recordedHTTP maps each recorded GET path (decoded, as the server sees it)
// to its response, with the recorded origin pointed at serverURL.
func recordedHTTP(lines []transcript.Line, serverURL string) map[string]httpResponse {
	out := map[string]httpResponse{}
	for _, l := range transcript.ByDir(lines, transcript.DirHTTP) {
		u, err := url.Parse(l.URL)
		if err != nil || l.Status == nil {
			continue
		}
		out[u.Path] = httpResponse{status: *l.Status, body: strings.ReplaceAll(l.Frame, RecordedOrigin, serverURL)}
	}
	return out
}

func clip(s string) string {
	const limit = 160
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}
