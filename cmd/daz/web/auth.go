package web

import (
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Sign-in through CyTube: a moderator PMs the bot !web, the web plugin asks
// the hub, the hub asks this server for a link (IssueLogin), and the bot PMs
// it back. The link is good once, for 5 minutes, for that user and channel.
//
// Opening the link shows a one-button page; the POST from it consumes the
// link and sets the session cookie. Two reasons not to sign in on the GET
// itself: chat clients and mail scanners fetch links to preview them (which
// would burn a single-use link), and a SameSite=Strict cookie set during a
// navigation that started on another site (CyTube) is not sent on that
// navigation's redirect, so the first page would look signed out.
//
// Links live in memory (a restart makes a moderator ask for a new one);
// sessions are stored in PostgreSQL (see sessions.go), so a restart signs
// nobody out.
const (
	loginTTL      = 5 * time.Minute
	sessionTTL    = 12 * time.Hour
	sessionCookie = "daz_session"
	minWebRank    = 2
	maxSayLength  = 1000
)

type loginLink struct {
	channel, user string
	rank          float64
	expires       time.Time
}

type session struct {
	channel, user string
	rank          float64 // at sign-in
	csrf          string
	expires       time.Time
}

type authStore struct {
	mu     sync.Mutex
	logins map[string]loginLink // by hex hash of the link's secret
	// sessions caches the stored sessions this process has seen, by hex
	// hash of the cookie.
	sessions map[string]*session
}

func newAuthStore() *authStore {
	return &authStore{logins: map[string]loginLink{}, sessions: map[string]*session{}}
}

func key(secret string) string { return hex.EncodeToString(hashSecret(secret)) }

// issueLogin is the hub's LoginIssuer.
func (s *Server) issueLogin(channel, user string) (string, bool) {
	if _, ok := s.lookup(channel); !ok {
		return "", false
	}
	secret := newSecret()
	now := s.cfg.Now()
	s.auth.mu.Lock()
	for k, l := range s.auth.logins {
		if now.After(l.expires) {
			delete(s.auth.logins, k)
		}
	}
	rank, here := s.cfg.Hub.Rank(channel, user)
	if !here {
		rank = minWebRank // !web itself asks for it
	}
	s.auth.logins[key(secret)] = loginLink{channel: channel, user: user, rank: rank, expires: now.Add(loginTTL)}
	s.auth.mu.Unlock()
	s.log.Info("web sign-in link issued", slog.String("channel", channel), slog.String("user", user))
	return s.URL() + "/login?t=" + secret, true
}

// session returns the request's live session, if any: from memory, or
// from the database after a restart. A database that is away makes the
// request signed out, never an error page.
func (s *Server) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil
	}
	now := s.cfg.Now()
	k := key(c.Value)
	s.auth.mu.Lock()
	sess := s.auth.sessions[k]
	s.auth.mu.Unlock()
	if sess == nil && s.cfg.Store != nil {
		sess, err = s.cfg.Store.loadSession(r.Context(), hashSecret(c.Value), now)
		if err != nil {
			s.log.Warn("web session lookup failed", slog.Any("error", err))
			return nil
		}
		if sess != nil {
			sess.csrf = csrfFor(c.Value)
			s.auth.mu.Lock()
			s.auth.sessions[k] = sess
			s.auth.mu.Unlock()
		}
	}
	if sess == nil || now.After(sess.expires) {
		return nil
	}
	return sess
}

// moderatorOf tells whether the request is signed in for channel.
func (s *Server) moderatorOf(r *http.Request, channel string) *session {
	if sess := s.session(r); sess != nil && sess.channel == channel {
		return sess
	}
	return nil
}

type loginPage struct {
	basePage
	Secret        string
	For, InChanel string
	Valid         bool
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, http.StatusUnauthorized, "Not signed in",
		"This sign-in link or token is not valid. Ask for a new link by sending the bot a PM: !web")
}

// pageLogin shows the confirmation form for a link that is still good.
func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request) {
	secret := r.URL.Query().Get("t")
	s.auth.mu.Lock()
	l, ok := s.auth.logins[key(secret)]
	s.auth.mu.Unlock()
	if secret == "" || !ok || s.cfg.Now().After(l.expires) {
		s.unauthorized(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "login", loginView(loginPage{basePage: s.base(r, "Sign in"), Secret: secret, For: l.user, InChanel: l.channel, Valid: true}))
}

// postLogin consumes the link and starts a session.
func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	secret := r.PostFormValue("t")
	now := s.cfg.Now()
	s.auth.mu.Lock()
	l, ok := s.auth.logins[key(secret)]
	delete(s.auth.logins, key(secret))
	var cookie string
	var sess *session
	if ok && secret != "" && !now.After(l.expires) {
		cookie = newSecret()
		sess = &session{channel: l.channel, user: l.user, rank: l.rank, csrf: csrfFor(cookie), expires: now.Add(sessionTTL)}
		s.auth.sessions[key(cookie)] = sess
		for k, old := range s.auth.sessions {
			if now.After(old.expires) {
				delete(s.auth.sessions, k)
			}
		}
	}
	s.auth.mu.Unlock()
	if cookie == "" {
		s.log.Info("web sign-in refused", slog.String("remote", r.RemoteAddr))
		s.unauthorized(w, r)
		return
	}
	if s.cfg.Store != nil {
		if err := s.cfg.Store.saveSession(r.Context(), hashSecret(cookie), sess, now); err != nil {
			// Signed in all the same, until the daemon restarts.
			s.log.Warn("web session not stored: it ends with this process", slog.String("channel", l.channel),
				slog.String("user", l.user), slog.Any("error", err))
		}
	}
	s.log.Info("web sign-in", slog.String("channel", l.channel), slog.String("user", l.user))
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || strings.HasPrefix(s.cfg.PublicURL, "https://"), MaxAge: int(sessionTTL.Seconds()),
	})
	http.Redirect(w, r, "/c/"+l.channel, http.StatusSeeOther)
}

// checkCSRF compares the form's token with the session's.
func checkCSRF(r *http.Request, sess *session) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) == 1
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) {
	sess := s.session(r)
	if sess == nil || !checkCSRF(r, sess) {
		s.fail(w, r, http.StatusForbidden, "Forbidden", "This form has expired; reload the page and try again.")
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.auth.mu.Lock()
		delete(s.auth.sessions, key(c.Value))
		s.auth.mu.Unlock()
		if s.cfg.Store != nil {
			if err := s.cfg.Store.deleteSession(r.Context(), hashSecret(c.Value)); err != nil {
				s.log.Warn("web sign-out not stored", slog.String("channel", sess.channel), slog.String("user", sess.user), slog.Any("error", err))
			}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// postSay is the say box of a signed-in moderator. The rank is checked
// against the live roster now, not as it was at sign-in.
func (s *Server) postSay(w http.ResponseWriter, r *http.Request) {
	c, ok := s.channel(w, r)
	if !ok {
		return
	}
	sess := s.moderatorOf(r, c.Name)
	if sess == nil {
		s.unauthorized(w, r)
		return
	}
	if !checkCSRF(r, sess) {
		s.fail(w, r, http.StatusForbidden, "Forbidden", "This form has expired; reload the page and try again.")
		return
	}
	if rank, here := s.cfg.Hub.Rank(c.Name, sess.user); !here || rank < minWebRank {
		s.log.Info("web say refused", slog.String("channel", c.Name), slog.String("user", sess.user), slog.String("reason", "rank"))
		s.fail(w, r, http.StatusForbidden, "Forbidden", "Only moderators who are in the channel right now may speak as the bot.")
		return
	}
	text := strings.TrimSpace(r.PostFormValue("text"))
	if msg := sayProblem(text); msg != "" {
		s.badRequest(w, r, msg)
		return
	}
	if !s.cfg.Hub.Say(c.Name, text, "web:"+sess.user) {
		s.fail(w, r, http.StatusServiceUnavailable, "Temporarily unavailable", "The channel is not running; try again in a little while.")
		return
	}
	back := "/c/" + c.Name + "/live"
	if strings.HasSuffix(r.Referer(), "/c/"+c.Name) {
		back = "/c/" + c.Name
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func sayProblem(text string) string {
	switch {
	case text == "":
		return "Say something: the text is empty."
	case !utf8.ValidString(text):
		return "The text is not valid UTF-8."
	case len(text) > maxSayLength:
		return "The text may be at most 1000 bytes long."
	}
	return ""
}

// apiSay is POST /api/v1/channels/{channel}/say with a bearer token of
// scope "say" for that channel.
func (s *Server) apiSay(w http.ResponseWriter, r *http.Request) {
	c, ok := s.channel(w, r)
	if !ok {
		return
	}
	token, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !found {
		s.unauthorized(w, r)
		return
	}
	who, err := s.cfg.Store.checkToken(r.Context(), strings.TrimSpace(token), c.Name, ScopeSay)
	if errors.Is(err, errBadToken) {
		s.log.Info("api say refused", slog.String("channel", c.Name), slog.String("remote", r.RemoteAddr))
		s.unauthorized(w, r)
		return
	}
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	var body struct {
		Text string `json:"text"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
	if err := dec.Decode(&body); err != nil {
		s.badRequest(w, r, `The body must be JSON like {"text": "hello"}.`)
		return
	}
	body.Text = strings.TrimSpace(body.Text)
	if msg := sayProblem(body.Text); msg != "" {
		s.badRequest(w, r, msg)
		return
	}
	if !s.cfg.Hub.Say(c.Name, body.Text, who) {
		s.fail(w, r, http.StatusServiceUnavailable, "Temporarily unavailable", "the channel is not running")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"queued": true})
}
