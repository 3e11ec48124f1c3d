package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
	"github.com/daz-bot/daz/cmd/daz/web"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// authFixture has a movable clock and records what the bot was asked to say.
type authFixture struct {
	*fixture
	clock atomic.Int64
	mu    sync.Mutex
	said  []string
}

func newAuthFixture(t *testing.T, mutate func(*web.Config)) *authFixture {
	t.Helper()
	a := &authFixture{}
	a.clock.Store(now.UnixNano())
	a.fixture = newFixture(t, migrated(t), func(c *web.Config) {
		c.Now = func() time.Time { return time.Unix(0, a.clock.Load()).UTC() }
		if mutate != nil {
			mutate(c)
		}
	})
	a.hub.SetSayer(channel, func(text, by string) bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.said = append(a.said, by+": "+text)
		return true
	})
	a.hub.SetState(channel, "online", now)
	a.hub.SetUsers(channel, []hub.Member{{Name: "Mod", Rank: 2}, {Name: "alice", Rank: 1}}, now)
	return a
}

func (a *authFixture) advance(d time.Duration) { a.clock.Add(int64(d)) }

// client keeps cookies and does not follow redirects.
func client(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t *testing.T, c *http.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// signIn follows a !web link: the GET shows the form, the POST signs in.
func (a *authFixture) signIn(t *testing.T, c *http.Client, user, ch string) *http.Response {
	t.Helper()
	link, ok := a.hub.IssueLogin(ch, user)
	if !ok {
		t.Fatal("no link issued")
	}
	secret := link[strings.Index(link, "t=")+2:]
	res, body := do(t, c, http.MethodGet, a.http.URL+"/login?t="+secret, nil)
	if res.StatusCode != 200 || !strings.Contains(body, user) {
		t.Fatalf("login page: %d %s", res.StatusCode, body)
	}
	res, _ = do(t, c, http.MethodPost, a.http.URL+"/login", url.Values{"t": {secret}})
	return res
}

var csrfPattern = `name="csrf" value="`

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	i := strings.Index(page, csrfPattern)
	if i < 0 {
		t.Fatalf("no CSRF token on the page")
	}
	rest := page[i+len(csrfPattern):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestSignInLinkIsOneTimeAndShortLived(t *testing.T) {
	a := newAuthFixture(t, func(c *web.Config) { c.PublicURL = "https://daz.example" })
	link, _ := a.hub.IssueLogin(channel, "Mod")
	if !strings.HasPrefix(link, "https://daz.example/login?t=") {
		t.Fatalf("link %q", link)
	}
	// The form carries the secret: no cache may keep it.
	res, _ := do(t, client(t), http.MethodGet, a.http.URL+"/login?t="+link[strings.Index(link, "t=")+2:], nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("login page: %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	c := client(t)
	res = a.signIn(t, c, "Mod", channel)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/c/"+channel {
		t.Fatalf("sign-in: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	cookie := res.Header.Get("Set-Cookie")
	for _, want := range []string{"daz_session=", "HttpOnly", "SameSite=Strict", "Secure", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}

	// Reused, expired, forged and wrong links all get the same 401.
	used := link[strings.Index(link, "t=")+2:]
	expired, _ := a.hub.IssueLogin(channel, "Mod")
	a.advance(5*time.Minute + time.Second)
	var bodies []string
	for name, secret := range map[string]string{"reused": used, "expired": expired[strings.Index(expired, "t=")+2:],
		"forged": "AAAA" + used[4:], "empty": ""} {
		res, body := do(t, client(t), http.MethodPost, a.http.URL+"/login", url.Values{"t": {secret}})
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s link: %d %q", name, res.StatusCode, res.Header.Get("Set-Cookie"))
		}
		bodies = append(bodies, body)
		res, _ = do(t, client(t), http.MethodGet, a.http.URL+"/login?t="+url.QueryEscape(secret), nil)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s link page: %d", name, res.StatusCode)
		}
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatal("401 pages differ, hinting at which part was wrong")
		}
	}
}

func TestModeratorSeesHiddenLinesAndPrivateChannel(t *testing.T) {
	a := newAuthFixture(t, nil)
	seed(t, a.pool)
	day := now.Format(time.DateOnly)
	c := client(t)
	if res, _ := do(t, c, http.MethodGet, a.http.URL+"/c/staffonly", nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("staffonly before sign-in: %d", res.StatusCode)
	}
	a.signIn(t, c, "Mod", channel)
	_, body := do(t, c, http.MethodGet, a.http.URL+"/c/"+channel+"/log?date="+day, nil)
	for _, want := range []string{"shadow-muted words", "alice joined (aliases", "hidden-line", `id="signed-in">Mod`} {
		if !strings.Contains(body, want) {
			t.Errorf("moderator's log lacks %q", want)
		}
	}
	if strings.Contains(body, "my secret pm") {
		t.Fatal("a PM shown to a moderator")
	}
	a.hub.SetRetry(channel, hub.Retry{Attempt: 3, LastError: "dial tcp: refused"})
	_, body = do(t, c, http.MethodGet, a.http.URL+"/c/"+channel, nil)
	if !strings.Contains(body, "dial tcp: refused") || !strings.Contains(body, "Retry state") {
		t.Error("moderator's channel page lacks the retry state")
	}
	if _, public, _ := get(t, a.fixture, "/c/"+channel); strings.Contains(public, "dial tcp: refused") {
		t.Error("retry state shown to the public")
	}
	// A session is for its own channel only.
	if res, _ := do(t, c, http.MethodGet, a.http.URL+"/c/staffonly", nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("testchan session opened staffonly: %d", res.StatusCode)
	}
	staff := client(t)
	a.signIn(t, staff, "Mod", "staffonly")
	if res, _ := do(t, staff, http.MethodGet, a.http.URL+"/c/staffonly", nil); res.StatusCode == http.StatusForbidden {
		t.Fatal("staffonly moderator refused")
	}
}

func TestSayBoxNeedsCSRFAndALiveModerator(t *testing.T) {
	a := newAuthFixture(t, nil)
	c := client(t)
	// Signed out: no form, and a POST is refused.
	if res, _ := do(t, c, http.MethodPost, a.http.URL+"/c/"+channel+"/say", url.Values{"text": {"hi"}}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signed-out say: %d", res.StatusCode)
	}
	a.signIn(t, c, "Mod", channel)
	_, page := do(t, c, http.MethodGet, a.http.URL+"/c/"+channel+"/live", nil)
	token := csrfOf(t, page)
	say := func(form url.Values) int {
		res, _ := do(t, c, http.MethodPost, a.http.URL+"/c/"+channel+"/say", form)
		return res.StatusCode
	}
	for _, tc := range []struct {
		name string
		form url.Values
		code int
	}{
		{"no csrf", url.Values{"text": {"hi"}}, http.StatusForbidden},
		{"wrong csrf", url.Values{"text": {"hi"}, "csrf": {token + "x"}}, http.StatusForbidden},
		{"empty", url.Values{"text": {"  "}, "csrf": {token}}, http.StatusBadRequest},
		{"too long", url.Values{"text": {strings.Repeat("a", 1001)}, "csrf": {token}}, http.StatusBadRequest},
		{"ok", url.Values{"text": {"hello from the web"}, "csrf": {token}}, http.StatusSeeOther},
	} {
		if got := say(tc.form); got != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.code)
		}
	}
	a.hub.SetRank(channel, "Mod", 1, now)
	if got := say(url.Values{"text": {"demoted"}, "csrf": {token}}); got != http.StatusForbidden {
		t.Errorf("rank dropped to 1: %d", got)
	}
	a.hub.Leave(channel, "Mod", now)
	if got := say(url.Values{"text": {"gone"}, "csrf": {token}}); got != http.StatusForbidden {
		t.Errorf("moderator not in the channel: %d", got)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.said) != 1 || a.said[0] != "web:Mod: hello from the web" {
		t.Fatalf("said %q", a.said)
	}
}

func TestAPISayNeedsATokenForTheChannel(t *testing.T) {
	a := newAuthFixture(t, nil)
	admin := pgtest.Pool(t, a.pool.Config().ConnString())
	good, _, err := web.CreateToken(t.Context(), admin, channel, web.ScopeSay, "ci")
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := web.CreateToken(t.Context(), admin, "staffonly", web.ScopeSay, "other")
	revoked, id, _ := web.CreateToken(t.Context(), admin, channel, web.ScopeSay, "old")
	if ok, err := web.RevokeToken(t.Context(), admin, id); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if _, _, err := web.CreateToken(t.Context(), admin, channel, "admin", ""); err == nil {
		t.Fatal("unknown scope accepted")
	}
	post := func(auth, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, a.http.URL+"/api/v1/channels/"+channel+"/say", strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	var unauthorized []string
	for name, auth := range map[string]string{"none": "", "other channel": "Bearer " + other, "revoked": "Bearer " + revoked,
		"forged": "Bearer daz_" + strings.Repeat("A", 43), "not bearer": "Basic " + good} {
		code, body := post(auth, `{"text":"hi"}`)
		if code != http.StatusUnauthorized {
			t.Errorf("%s: %d", name, code)
		}
		unauthorized = append(unauthorized, body)
	}
	for _, b := range unauthorized[1:] {
		if b != unauthorized[0] {
			t.Fatal("401 answers differ")
		}
	}
	if code, _ := post("Bearer "+good, `not json`); code != http.StatusBadRequest {
		t.Errorf("bad body: %d", code)
	}
	if code, body := post("Bearer "+good, `{"text":"deploy done"}`); code != http.StatusAccepted {
		t.Fatalf("good token: %d %s", code, body)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.said) != 1 || !strings.HasSuffix(a.said[0], "(ci): deploy done") {
		t.Fatalf("said %q", a.said)
	}
	list, err := web.ListTokens(t.Context(), admin)
	if err != nil || len(list) != 3 || list[0].RevokedAt.IsZero() || !list[1].RevokedAt.IsZero() {
		t.Fatalf("list %+v %v", list, err)
	}
}

// The API gives a moderator signed in to the channel the hidden lines,
// marked hidden, and nobody else: not the public, not a moderator of
// another channel. PMs reach no one.
func TestAPIHiddenLinesForSignedInModerators(t *testing.T) {
	a := newAuthFixture(t, nil)
	seed(t, a.pool)
	day := now.Format(time.DateOnly)
	mod, other := client(t), client(t)
	a.signIn(t, mod, "Mod", channel)
	a.signIn(t, other, "Mod", "staffonly")
	hiddenOf := func(c *http.Client, path string) map[string]bool {
		t.Helper()
		res, body := do(t, c, http.MethodGet, a.http.URL+path, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
		if strings.Contains(body, "my secret pm") {
			t.Fatalf("%s returned a PM", path)
		}
		var page struct {
			Messages json.RawMessage `json:"messages"` // the user API's is a count
			Recent   []web.Line      `json:"recent"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		lines := page.Recent
		if strings.HasPrefix(string(page.Messages), "[") {
			if err := json.Unmarshal(page.Messages, &lines); err != nil {
				t.Fatal(err)
			}
		}
		out := map[string]bool{}
		for _, l := range lines {
			out[l.Text] = l.Hidden
		}
		return out
	}
	for _, path := range []string{"/api/v1/channels/testchan/messages?limit=500&since=" + day, "/api/v1/channels/testchan/messages?q=words"} {
		got := hiddenOf(mod, path)
		if hidden, ok := got["shadow-muted words"]; !ok || !hidden {
			t.Errorf("%s for the moderator: shadow-muted line present %v, hidden %v", path, ok, hidden)
		}
		for _, c := range []*http.Client{client(t), other} {
			if _, ok := hiddenOf(c, path)["shadow-muted words"]; ok {
				t.Errorf("%s: a hidden line reached someone not signed in to the channel", path)
			}
		}
	}
	whispers := 0
	for text, hidden := range hiddenOf(mod, "/api/v1/channels/testchan/messages?limit=500&since="+day) {
		if strings.Contains(text, "joined (aliases") {
			whispers++
			if !hidden {
				t.Errorf("[server] whisper %q not marked hidden", text)
			}
		} else if hidden && text != "shadow-muted words" {
			t.Errorf("public line %q marked hidden", text)
		}
	}
	if whispers == 0 {
		t.Error("the moderator did not get the [server] whisper")
	}
	if got := hiddenOf(mod, "/api/v1/channels/testchan/users/ghost"); !got["shadow-muted words"] {
		t.Errorf("user API for the moderator: %v", got)
	}
	if res, _ := do(t, client(t), http.MethodGet, a.http.URL+"/api/v1/channels/testchan/users/ghost", nil); res.StatusCode == 200 {
		// ghost only ever spoke while shadow-muted: their recent lines stay empty for the public.
		if got := hiddenOf(client(t), "/api/v1/channels/testchan/users/ghost"); len(got) != 0 {
			t.Errorf("user API for the public: %v", got)
		}
	}
}

// restart starts another web server on the same database, hub and clock,
// as the daemon after a restart: nothing of the first one's memory.
func (a *authFixture) restart(t *testing.T) string {
	t.Helper()
	pool, err := web.OpenPool(t.Context(), a.pool.Config().ConnString(), 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	clock := func() time.Time { return time.Unix(0, a.clock.Load()).UTC() }
	srv, err := web.New(web.Config{Channels: []web.ChannelConfig{{Name: channel, Public: true}}, Store: web.NewStore(pool, clock),
		Hub: a.hub, Now: clock, RatePerSecond: 1000, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

// A session is stored (hashed) and outlives a restart, CSRF token and all;
// a sign-out or its expiry ends it for every later server too, and expired
// sessions are deleted at the next sign-in.
func TestSessionsSurviveARestart(t *testing.T) {
	a := newAuthFixture(t, nil)
	stays, leaves := client(t), client(t)
	a.signIn(t, stays, "Mod", channel)
	a.signIn(t, leaves, "Mod", channel)
	_, page := do(t, leaves, http.MethodGet, a.http.URL+"/c/"+channel, nil)
	if res, _ := do(t, leaves, http.MethodPost, a.http.URL+"/logout", url.Values{"csrf": {csrfOf(t, page)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	u, _ := url.Parse(a.http.URL)
	var cookie string
	for _, c := range stays.Jar.Cookies(u) {
		if c.Name == "daz_session" {
			cookie = c.Value
		}
	}
	var rows int
	var user, ch string
	var rank float64
	err := a.pool.QueryRow(t.Context(), `SELECT count(*) OVER (), username, channel, rank FROM daz_web_sessions
		WHERE hash = sha256(convert_to($1, 'UTF8'))`, cookie).Scan(&rows, &user, &ch, &rank)
	if err != nil || rows != 1 || user != "Mod" || ch != channel || rank != 2 {
		t.Fatalf("stored session: %d %q %q %v %v", rows, user, ch, rank, err)
	}
	var total int
	if err := a.pool.QueryRow(t.Context(), `SELECT count(*) FROM daz_web_sessions`).Scan(&total); err != nil || total != 1 {
		t.Fatalf("%d sessions stored after one sign-out, %v", total, err)
	}

	second := a.restart(t)
	_, page = do(t, stays, http.MethodGet, second+"/c/"+channel+"/live", nil)
	if !strings.Contains(page, `id="signed-in">Mod`) {
		t.Fatal("signed out by the restart")
	}
	if res, _ := do(t, stays, http.MethodPost, second+"/c/"+channel+"/say", url.Values{"text": {"after restart"}, "csrf": {csrfOf(t, page)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("say with the CSRF token after the restart: %d", res.StatusCode)
	}
	if _, page := do(t, leaves, http.MethodGet, second+"/c/"+channel, nil); strings.Contains(page, `id="signed-in"`) {
		t.Fatal("a signed-out session came back after the restart")
	}

	a.advance(12*time.Hour + time.Second)
	for _, base := range []string{second, a.restart(t)} {
		if _, page := do(t, stays, http.MethodGet, base+"/c/"+channel, nil); strings.Contains(page, `id="signed-in"`) {
			t.Fatalf("%s: an expired session still signed in", base)
		}
	}
	// The newest server issues links now; a sign-in there clears the expired.
	third := a.restart(t)
	link, _ := a.hub.IssueLogin(channel, "Mod")
	if res, _ := do(t, client(t), http.MethodPost, third+"/login", url.Values{"t": {link[strings.Index(link, "t=")+2:]}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	if err := a.pool.QueryRow(t.Context(), `SELECT count(*) FROM daz_web_sessions`).Scan(&total); err != nil || total != 1 {
		t.Fatalf("%d sessions stored after the expired one, %v", total, err)
	}
}
