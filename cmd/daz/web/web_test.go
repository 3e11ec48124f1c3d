package web_test

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/connection/frame"
	plugweb "github.com/daz-bot/daz/actors/plugins/web"
	"github.com/daz-bot/daz/actors/plugins/web/hub"
	"github.com/daz-bot/daz/cmd/daz/web"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations"
	"github.com/daz-bot/daz/migrations/pgtest"
)

const channel = "testchan"

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	srv   *web.Server
	http  *httptest.Server
	hub   *hub.Hub
	store *web.Store
	pool  *pgxpool.Pool
}

func migrated(t *testing.T) string {
	t.Helper()
	url := pgtest.New(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := migrations.Up(ctx, url); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return url
}

func newFixture(t *testing.T, dbURL string, mutate func(*web.Config)) *fixture {
	t.Helper()
	pool, err := web.OpenPool(t.Context(), dbURL, 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	f := &fixture{hub: hub.New(), pool: pool}
	f.store = web.NewStore(pool, func() time.Time { return now })
	cfg := web.Config{
		Channels: []web.ChannelConfig{{Name: channel, Public: true, Bot: "dazbot"}, {Name: "staffonly", Public: false}},
		Store:    f.store, Hub: f.hub, Now: func() time.Time { return now }, Version: "test",
		RatePerSecond: 1000, Burst: 1000,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	f.srv, err = web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.http = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.http.Close)
	return f
}

// seed writes a channel's history as the SQL writer would have: the chat
// lines of the recorded transcript (hostile ones included), a [server]
// whisper, a shadow-muted line, a PM, media and a queued item.
func seed(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	admin := pgtest.Pool(t, pool.Config().ConnString())
	insert := func(at time.Time, event, user, text, meta string) {
		t.Helper()
		_, err := admin.Exec(t.Context(), `INSERT INTO daz_core_chat_log (timestamp, channel, username, message, event_type, metadata)
			VALUES ($1, $2, $3, $4, $5, jsonb_build_object('meta', $6::jsonb))`, at, channel, user, text, event, meta)
		if err != nil {
			t.Fatal(err)
		}
	}
	at := now.Add(-2 * time.Hour)
	for _, ev := range transcriptEvents(t) {
		switch b := ev.Body.(type) {
		case *messages.ChatMsg:
			insert(at, "chatMsg", b.Username, b.Text, string(orEmpty(b.Meta)))
		case *messages.Pm:
			insert(at, "pm", b.Username, b.Text, string(orEmpty(b.Meta)))
		}
		at = at.Add(time.Second)
	}
	insert(at, "chatMsg", "ghost", "shadow-muted words", `{"shadow":true}`)
	insert(at, "pm", "alice", "my secret pm", `{}`)
	insert(at, "queue", "alice", "A queued song", `{}`)
	if _, err := admin.Exec(t.Context(), plugweb.RollupStateSQL, channel); err != nil {
		t.Fatal(err)
	}
	var hi, top int64
	if err := admin.QueryRow(t.Context(), plugweb.RollupSQL, channel, int64(plugweb.RollupChunk)).Scan(&hi, &top); err != nil || hi != top {
		t.Fatalf("hourly roll-up: %d of %d, %v", hi, top, err)
	}
	for i, m := range []struct{ id, title string }{{"a", "First song"}, {"b", "Second song"}, {"a", "First song"}} {
		_, err := admin.Exec(t.Context(), `INSERT INTO daz_analytics_media (channel, media_id, title, media_type, duration_seconds, started_at)
			VALUES ($1, $2, $3, 'yt', 200, $4)`, channel, m.id, m.title, now.Add(-time.Duration(10-i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
	}
}

func orEmpty(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage(`{}`)
	}
	return b
}

// transcriptEvents decodes the chat and PM frames the bot received in the
// chat_and_presence recording.
func transcriptEvents(t *testing.T) []*messages.Event {
	t.Helper()
	file, err := os.Open("../../../testdata/frames/chat_and_presence.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var out []*messages.Event
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var rec struct{ Dir, Conn, Frame string }
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec.Dir != "in" || rec.Conn != "bot" || !strings.HasPrefix(rec.Frame, "42[") {
			continue
		}
		var parts []json.RawMessage
		if json.Unmarshal([]byte(rec.Frame[2:]), &parts) != nil || len(parts) < 2 {
			continue
		}
		var name string
		_ = json.Unmarshal(parts[0], &name)
		if name != "chatMsg" && name != "pm" {
			continue
		}
		ev, err := frame.DecodeEvent(channel, 0, now, name, parts[1])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	if len(out) < 5 {
		t.Fatalf("only %d chat frames in the recording", len(out))
	}
	return out
}

func get(t *testing.T, f *fixture, path string) (int, string, http.Header) {
	t.Helper()
	res, err := http.Get(f.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body), res.Header
}

func TestPagesShowTheChannel(t *testing.T) {
	f := newFixture(t, migrated(t), nil)
	seed(t, f.pool)
	f.hub.SetState(channel, "online", now)
	f.hub.SetUsers(channel, []hub.Member{{Name: "alice", Rank: 2}, {Name: "bob", Rank: 0}}, now)
	f.hub.Play(channel, hub.NowPlaying{Title: "Now <b>song</b>", Type: "yt", ID: "x", Since: now})
	day := now.Format(time.DateOnly)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/", []string{`href="/c/testchan"`, "online", "2 online", "alice, bob", "staffonly", "moderators only"}},
		{"/c/testchan", []string{"Now &lt;b&gt;song&lt;/b&gt;", `href="/c/testchan/u/alice"`, "<svg", "First song", "<td>2</td>", "Top chatters", `<time datetime="`}},
		{"/c/testchan/log?date=" + day, []string{"hello everyone", `class="permalink"`, "日本語テキスト"}},
		{"/c/testchan/log?q=everyone", []string{"hello <mark>everyone</mark>"}},
		{"/c/testchan/u/alice", []string{"alice", "hello everyone", "A queued song", "First seen"}},
		{"/c/testchan/live", []string{`data-stream="/c/testchan/live/events"`, "live.js"}},
	} {
		code, body, hdr := get(t, f, tc.path)
		if code != http.StatusOK {
			t.Errorf("%s: status %d: %s", tc.path, code, body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", tc.path, w)
			}
		}
		if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", tc.path, csp)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, "onclick") {
			t.Errorf("%s has inline script", tc.path)
		}
	}
}

// The hostile lines of the recording come out as text on every page and in
// the API; PMs, [server] whispers and shadow-muted lines never appear.
func TestNoStoredXSSAndPrivacy(t *testing.T) {
	f := newFixture(t, migrated(t), nil)
	seed(t, f.pool)
	day := now.Format(time.DateOnly)
	paths := []string{"/c/testchan/log?date=" + day, "/c/testchan/log?q=alert", "/c/testchan/log?q=bold", "/c/testchan/u/alice",
		"/c/testchan", "/api/v1/channels/testchan/messages?since=" + day, "/api/v1/channels/testchan/messages?q=secret",
		"/api/v1/channels/testchan/users/alice"}
	sawEscaped := false
	for _, p := range paths {
		code, body, _ := get(t, f, p)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", p, code, body)
		}
		for _, bad := range []string{"<script>alert(1)", "<b>bold</b>", "my secret pm", "!help (sent as a PM", "shadow-muted words", "alice joined (aliases"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s shows %q", p, bad)
			}
		}
		if strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(body, `\u003cscript\u003ealert(1)`) {
			sawEscaped = true
		}
	}
	if !sawEscaped {
		t.Fatal("the hostile line is not shown (escaped) anywhere")
	}
	code, body, _ := get(t, f, "/c/testchan/log?q=alert")
	if code != 200 || !strings.Contains(body, "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;") {
		t.Fatalf("highlighted hostile line: %s", body)
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, migrated(t), nil)
	seed(t, f.pool)
	long := strings.Repeat("a", 10<<10)
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/c/nosuch", 404},
		{"/c/nosuch/log", 404},
		{"/c/Bad%20Name", 404},
		{"/c/testchan/u/nobodyhere", 404},
		{"/c/testchan/u/%3Cscript%3E", 404},
		{"/nothing/here", 404},
		{"/c/testchan/log?date=2026-13-45", 400},
		{"/c/testchan/log?date=yesterday", 400},
		{"/c/testchan/log?after=x", 400},
		{"/c/testchan/log?q=" + long, 400},
		{"/api/v1/channels/nosuch/stats", 404},
		{"/api/v1/channels/testchan/users/nobodyhere", 404},
		{"/api/v1/channels/testchan/messages?limit=100000", 400},
		{"/api/v1/channels/testchan/messages?limit=-1", 400},
		{"/api/v1/channels/testchan/messages?cursor=%%%", 400},
		{"/api/v1/channels/testchan/messages?cursor=Yjo", 400},
		{"/api/v1/channels/testchan/messages?since=soon", 400},
		{"/api/v1/channels/testchan/messages?q=" + long, 400},
		{"/api/v1/nothing", 404},
		{"/c/staffonly", 403},
		{"/api/v1/channels/staffonly/messages", 403},
	} {
		code, body, hdr := get(t, f, tc.path)
		if code != tc.code {
			t.Errorf("%.60s: status %d, want %d (%.200s)", tc.path, code, tc.code, body)
			continue
		}
		if strings.HasPrefix(tc.path, "/api/") {
			var e struct{ Error string }
			if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
				t.Errorf("%.60s: API error body %q", tc.path, body)
			}
		} else if !strings.Contains(body, `class="error"`) {
			t.Errorf("%.60s: no error page: %.200s", tc.path, body)
		}
	}
}

// With the database gone, pages say "temporarily unavailable" (503) while
// the live view keeps streaming from the hub.
func TestDatabaseOutageLeavesLiveViewStreaming(t *testing.T) {
	f := newFixture(t, "postgres://daz@127.0.0.1:1/none?connect_timeout=1", nil)
	for _, p := range []string{"/c/testchan", "/c/testchan/log", "/c/testchan/u/alice", "/api/v1/channels/testchan/stats"} {
		code, body, hdr := get(t, f, p)
		if code != http.StatusServiceUnavailable || !strings.Contains(strings.ToLower(body), "temporarily unavailable") &&
			!strings.Contains(body, "cannot be read right now") || hdr.Get("Retry-After") == "" {
			t.Errorf("%s: %d %.300s", p, code, body)
		}
	}
	events := openStream(t, f, "/c/testchan/live/events")
	f.hub.Chat(channel, "alice", "still here", now, false)
	ev := events.next(t)
	if ev.Text != "still here" || ev.User != "alice" {
		t.Fatalf("event %+v", ev)
	}
}

type stream struct {
	sc   *bufio.Scanner
	kind string
}

func openStream(t *testing.T, f *fixture, path string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.http.URL+path, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &stream{sc: bufio.NewScanner(res.Body)}
	// The stream is registered with the hub once its first bytes arrive.
	for s.sc.Scan() {
		if s.sc.Text() == ": live" {
			return s
		}
	}
	t.Fatal("stream ended before it started")
	return nil
}

func (s *stream) next(t *testing.T) hub.Event {
	t.Helper()
	for s.sc.Scan() {
		line := s.sc.Text()
		if k, ok := strings.CutPrefix(line, "event: "); ok {
			s.kind = k
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var ev hub.Event
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Kind != s.kind {
				t.Fatalf("event: %s with kind %s", s.kind, ev.Kind)
			}
			return ev
		}
	}
	t.Fatalf("stream ended: %v", s.sc.Err())
	return hub.Event{}
}

// Hidden lines never reach a public stream; the next public one does.
func TestLiveStreamHidesModeratorLines(t *testing.T) {
	f := newFixture(t, migrated(t), nil)
	for _, path := range []string{"/c/testchan/live/events", "/api/v1/channels/testchan/events"} {
		s := openStream(t, f, path)
		f.hub.Chat(channel, "[server]", "alice joined (aliases: alice)", now, true)
		f.hub.Chat(channel, "alice", "<script>alert(1)</script>", now, false)
		ev := s.next(t)
		if ev.User != "alice" || ev.Text != "<script>alert(1)</script>" {
			t.Fatalf("%s: first event %+v", path, ev)
		}
	}
}

func TestStaticAssetsAreCachedAndCompressed(t *testing.T) {
	f := newFixture(t, migrated(t), nil)
	_, page, _ := get(t, f, "/")
	i := strings.Index(page, "/static/app.css?v=")
	if i < 0 {
		t.Fatal("page does not link the stylesheet by hash")
	}
	url := page[i : i+strings.IndexByte(page[i:], '"')]
	req, _ := http.NewRequest(http.MethodGet, f.http.URL+url, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" ||
		!strings.Contains(res.Header.Get("Cache-Control"), "immutable") || res.Header.Get("ETag") == "" {
		t.Fatalf("asset: %d %v", res.StatusCode, res.Header)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	css, _ := io.ReadAll(zr)
	if !strings.Contains(string(css), "--accent") {
		t.Fatalf("css: %.100s", css)
	}
	req, _ = http.NewRequest(http.MethodGet, f.http.URL+url, nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", res2.StatusCode)
	}
}

func TestRateLimitPerIP(t *testing.T) {
	f := newFixture(t, migrated(t), func(c *web.Config) { c.RatePerSecond, c.Burst = 1, 3 })
	codes := []int{}
	for range 5 {
		code, _, _ := get(t, f, "/")
		codes = append(codes, code)
	}
	want := []int{200, 200, 200, 429, 429}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("codes %v, want %v (the clock stands still)", codes, want)
		}
	}
}

// A statement that runs past the read pool's statement_timeout is cancelled
// by PostgreSQL, so a slow page gives its connection back.
func TestReadPoolHasStatementTimeout(t *testing.T) {
	pool, err := web.OpenPool(t.Context(), migrated(t), 1, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	_, err = pool.Exec(t.Context(), "SELECT pg_sleep(5)")
	if err == nil || !strings.Contains(err.Error(), "statement timeout") {
		t.Fatalf("slow statement: %v", err)
	}
	if _, err := pool.Exec(t.Context(), "CREATE TABLE x (a int)"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("write on the read pool: %v", err)
	}
}

// Shutdown ends open live streams instead of waiting for them forever.
func TestShutdownEndsLiveStreams(t *testing.T) {
	f := newFixture(t, migrated(t), func(c *web.Config) { c.Addr = "127.0.0.1:0" })
	if err := f.srv.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve() }()
	res, err := http.Get("http://" + f.srv.Addr() + "/c/testchan/live/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(res.Body); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
}

// The charts read the hourly roll-up: every chat line but [server] notices,
// in its UTC hour and weekday.
func TestStatsCountFromTheHourlyRollup(t *testing.T) {
	f := newFixture(t, migrated(t), nil)
	seed(t, f.pool)
	var want int64
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM daz_core_chat_log WHERE channel = $1 AND event_type = 'chatMsg'
		AND username <> '[server]'`, channel).Scan(&want); err != nil || want < 5 {
		t.Fatalf("chat lines %d %v", want, err)
	}
	code, body, _ := get(t, f, "/api/v1/channels/testchan/stats")
	if code != 200 {
		t.Fatalf("stats: %d %s", code, body)
	}
	var st web.Stats
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	var hourly, heat int64
	for _, h := range st.Hourly {
		hourly += h.Messages
		if h.Messages > 0 && !h.Hour.Equal(now.Add(-2*time.Hour)) && !h.Hour.Equal(now.Add(-time.Hour)) {
			t.Errorf("lines counted in hour %v", h.Hour)
		}
	}
	for _, row := range st.Heatmap {
		for _, n := range row {
			heat += n
		}
	}
	if len(st.Hourly) != 168 || hourly != want || heat != want || st.Heatmap[now.Weekday()-1][10] == 0 {
		t.Fatalf("hours %d, hourly sum %d, heatmap sum %d, want %d (heatmap %v)", len(st.Hourly), hourly, heat, want, st.Heatmap)
	}
}

// Days of the log, the heatmap and the times follow ?tz= or the zone the
// page script remembers in a cookie; a zone that does not exist is a 400.
// The seeded lines are at 10:00 UTC on 2026-12-01, which is midnight
// starting 2026-12-02 at UTC+14.
func TestTimeZones(t *testing.T) {
	f := newFixture(t, migrated(t), nil)
	seed(t, f.pool)
	const kiri = "Pacific/Kiritimati"
	for _, tc := range []struct {
		path       string
		want, lack []string
	}{
		{"/c/testchan/log?date=2026-12-02&tz=" + kiri, []string{"hello everyone", "Day (Pacific/Kiritimati)",
			`href="/c/testchan/log?date=2026-12-02&amp;tz=Pacific%2FKiritimati#`, ">2026-12-02 00:00 +14</time>",
			`?date=2026-12-03&amp;tz=Pacific%2FKiritimati`}, nil},
		{"/c/testchan/log?date=2026-12-01&tz=" + kiri, nil, []string{"hello everyone"}},
		{"/c/testchan/log?date=2026-12-01", []string{"hello everyone", "Day (UTC)", ">2026-12-01 10:00 UTC</time>"}, nil},
		{"/c/testchan?tz=Asia/Tokyo", []string{"last 30 days (Asia/Tokyo)", "Tue 19:00 Asia/Tokyo: "}, nil},
		{"/c/testchan/log?q=everyone&tz=Asia/Tokyo", []string{`name="tz" value="Asia/Tokyo"`, ">2026-12-01 19:00 JST</time>"}, nil},
	} {
		code, body, _ := get(t, f, tc.path)
		if code != 200 {
			t.Errorf("%s: %d", tc.path, code)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", tc.path, w)
			}
		}
		for _, w := range tc.lack {
			if strings.Contains(body, w) {
				t.Errorf("%s shows %q", tc.path, w)
			}
		}
	}
	// The heatmap in the API, by the zone's weekday and hour.
	for _, tc := range []struct {
		tz        string
		dow, hour int
	}{{"", 1, 10}, {"Asia/Tokyo", 1, 19}, {"America/Los_Angeles", 1, 2}, {kiri, 2, 0}} {
		path := "/api/v1/channels/testchan/stats"
		if tc.tz != "" {
			path += "?tz=" + tc.tz
		}
		_, body, _ := get(t, f, path)
		var st web.Stats
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		if want := cmp.Or(tc.tz, "UTC"); st.TZ != want || st.Heatmap[tc.dow][tc.hour] == 0 {
			t.Errorf("tz %q: zone %q, heatmap %v", tc.tz, st.TZ, st.Heatmap)
		}
	}
	// Dates of the API are midnight in tz.
	_, body, _ := get(t, f, "/api/v1/channels/testchan/messages?since=2026-12-02&until=2026-12-03&tz="+kiri)
	if !strings.Contains(body, "hello everyone") {
		t.Errorf("API day in %s lacks the lines: %.300s", kiri, body)
	}
	// The cookie the page script sets; one naming no zone is ignored.
	for cookie, want := range map[string]string{"Asia%2FTokyo": "(Asia/Tokyo)", "Nowhere%2FAtAll": "(UTC)"} {
		req, _ := http.NewRequest(http.MethodGet, f.http.URL+"/c/testchan", nil)
		req.Header.Set("Cookie", "daz_tz="+cookie)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), "last 30 days "+want) {
			t.Errorf("cookie %s: %d, want heatmap %s", cookie, res.StatusCode, want)
		}
	}
	for _, bad := range []string{"Mars/Base", "Local", "../../../etc/passwd", "", strings.Repeat("A", 100)} {
		for _, p := range []string{"/c/testchan?tz=", "/c/testchan/log?tz=", "/api/v1/channels/testchan/stats?tz=", "/api/v1/channels/testchan/messages?tz="} {
			if code, _, _ := get(t, f, p+url.QueryEscape(bad)); code != http.StatusBadRequest {
				t.Errorf("%s%q: %d, want 400", p, bad, code)
			}
		}
	}
}

// Each way a search can run (the newest lines walked, then the rest walked
// or looked up in the full-text index) pages through the same lines, newest first, as
// plain SQL finds them, for single words and for the operators that turn
// the substring prefilter off (or, -word) or keep it on (phrases, AND).
func TestSearchStrategiesAgree(t *testing.T) {
	f := newFixture(t, migrated(t), nil)
	admin := pgtest.Pool(t, f.pool.Config().ConnString())
	_, err := admin.Exec(t.Context(), `INSERT INTO daz_core_chat_log (timestamp, channel, username, message, event_type)
		SELECT $1::timestamptz + g * interval '1 minute', $2, 'user' || (g % 7),
		       CASE WHEN g % 3 = 0 THEN 'Common words' ELSE 'other' END || CASE WHEN g % 17 = 0 THEN ' rare' ELSE '' END ||
		       CASE WHEN g < 30 THEN ' early<b>' ELSE '' END,
		       'chatMsg' FROM generate_series(1, 300) g`, now.Add(-10*time.Hour), channel)
	if err != nil {
		t.Fatal(err)
	}
	for _, query := range []string{"common", "rare", "early", "missing", "COMMON rare", `"common words"`, `"words common"`,
		"rare or early", "common -rare", "b", "other early"} {
		rows, _ := admin.Query(t.Context(), `SELECT id FROM daz_core_chat_log
			WHERE to_tsvector('simple', translate(message, '<>', '  ')) @@ websearch_to_tsquery('simple', $1) ORDER BY id DESC`, query)
		want, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		for _, tune := range []struct {
			walk  int
			force string
		}{{10000, ""}, {5, ""}, {5, "walk"}, {5, "index"}, {1, "index"}, {40, "index"}} {
			f.store.SearchWalk, f.store.SearchForce = tune.walk, tune.force
			var got []int64
			q := web.MessageQuery{Channel: channel, Q: query, Limit: 4}
			for range 200 {
				lines, more, err := f.store.Messages(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range lines {
					got = append(got, l.ID)
				}
				if !more {
					break
				}
				q.Before = lines[len(lines)-1].ID
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q with walk %d, %q: %d lines %v, want %d %v", query, tune.walk, tune.force, len(got), got, len(want), want)
			}
		}
	}
}

// A log or search of more lines than a page holds ends in a "More lines"
// link; following the links shows every line once, in order, and keeps
// the zone.
func TestLogMoreLinksPageThroughEveryLine(t *testing.T) {
	f := newFixture(t, migrated(t), nil)
	admin := pgtest.Pool(t, f.pool.Config().ConnString())
	const lines = 250
	_, err := admin.Exec(t.Context(), `INSERT INTO daz_core_chat_log (timestamp, channel, username, message, event_type)
		SELECT $1::timestamptz + g * interval '1 second', $2, 'alice', 'line ' || g, 'chatMsg' FROM generate_series(1, $3) g`,
		now.Add(-time.Hour), channel, lines)
	if err != nil {
		t.Fatal(err)
	}
	more := regexp.MustCompile(`<a href="([^"]*)" rel="next" class="more">`)
	text := regexp.MustCompile(`<span class="text">(?:<mark>)?line(?:</mark>)? (\d+)</span>`)
	for _, tc := range []struct {
		start  string
		oldest bool // lines come oldest first
	}{
		{"/c/testchan/log?date=" + now.Format(time.DateOnly) + "&tz=UTC", true},
		{"/c/testchan/log?q=line&tz=UTC", false},
	} {
		var got []int
		path, pages := tc.start, 0
		for path != "" {
			if pages++; pages > 10 {
				t.Fatalf("%s: more than 10 pages", tc.start)
			}
			code, body, _ := get(t, f, path)
			if code != http.StatusOK {
				t.Fatalf("%s: %d %.300s", path, code, body)
			}
			for _, m := range text.FindAllStringSubmatch(body, -1) {
				n, _ := strconv.Atoi(m[1])
				got = append(got, n)
			}
			path = ""
			if m := more.FindStringSubmatch(body); m != nil {
				next, err := url.Parse(html.UnescapeString(m[1]))
				if err != nil || next.Query().Get("tz") != "UTC" {
					t.Fatalf("%s: more link %q", tc.start, m[1])
				}
				path = "/c/testchan/log" + next.String()
			}
		}
		want := make([]int, lines)
		for i := range want {
			want[i] = i + 1
			if !tc.oldest {
				want[i] = lines - i
			}
		}
		if pages != 3 || !slices.Equal(got, want) {
			t.Errorf("%s: %d pages, lines %v", tc.start, pages, got)
		}
	}
}
