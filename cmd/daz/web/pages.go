package web

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
)

// basePage is what the layout needs.
type basePage struct {
	Title   string
	Channel string
	Nav     string // which channel tab is current
	Version string
	// The signed-in moderator, if any: SignedIn names them, Moderator says
	// whether the session is for this page's channel, CSRF goes in forms.
	SignedIn  string
	SignedFor string
	Moderator bool
	CSRF      string
	// Loc is the zone times and days are shown in; TZParam is its name
	// when the request gave it as ?tz=, for links that keep it.
	Loc     *time.Location
	TZParam string

	assets *assets
}

type errorPage struct {
	basePage
	Code    int
	Message string
}

func (s *Server) base(r *http.Request, title string) basePage {
	b := basePage{Title: title, Channel: strings.ToLower(r.PathValue("channel")), Version: s.cfg.Version, assets: s.assets}
	if sess := s.session(r); sess != nil {
		b.SignedIn, b.SignedFor, b.CSRF = sess.user, sess.channel, sess.csrf
		b.Moderator = sess.channel == b.Channel
	}
	return b
}

// zonedBase is base with the request's time zone; a bad ?tz= is answered
// with 400 and ok false.
func (s *Server) zonedBase(w http.ResponseWriter, r *http.Request, title string) (basePage, bool) {
	loc, explicit, ok := s.zone(w, r)
	if !ok {
		return basePage{}, false
	}
	b := s.base(r, title)
	b.Loc = loc
	if explicit {
		b.TZParam = loc.String()
	}
	return b, true
}

// render writes a page into a buffer first, so an error while rendering
// becomes a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, page templ.Component) {
	var buf bytes.Buffer
	if err := page.Render(r.Context(), &buf); err != nil {
		if r.Context().Err() != nil {
			return // the client left; templ stops rendering then
		}
		s.log.Error("web template failed", slog.String("page", name), slog.Any("error", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// A page that set its own (the sign-in form: no-store) keeps it.
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// asset is the cache-busting address of one of our static files.
func (b basePage) asset(name string) string { return b.assets.URL(name) }

// channelPath is the address of a page of channel; suffix starts with /.
func channelPath(channel, suffix string) string { return "/c/" + url.PathEscape(channel) + suffix }

// channelPath is the address of a page of this page's channel.
func (b basePage) channelPath(suffix string) string { return channelPath(b.Channel, suffix) }

// userPath is the address of a user's page in this page's channel.
func (b basePage) userPath(user string) string { return b.channelPath("/u/" + url.PathEscape(user)) }

// memberNames lists the people online, comma separated.
func memberNames(users []hub.Member) string {
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Name
	}
	return strings.Join(names, ", ")
}

// marked is a piece of a log line; Mark says it matches the search.
type marked struct {
	Text string
	Mark bool
}

// highlight cuts text into pieces at every case-insensitive occurrence of
// the query's words, which are marked. The pieces are text: the page
// escapes each, so its marks are the only markup that can come out.
func highlight(text, q string) []marked {
	words := queryWords(q)
	// Lower-casing may change byte lengths; give up marking then.
	lower := strings.ToLower(text)
	if len(words) == 0 || len(lower) != len(text) {
		return []marked{{Text: text}}
	}
	var out []marked
	for i := 0; i < len(text); {
		best, bestLen := -1, 0
		for _, w := range words {
			if j := strings.Index(lower[i:], w); j >= 0 && (best < 0 || j < best || (j == best && len(w) > bestLen)) {
				best, bestLen = j, len(w)
			}
		}
		if best < 0 {
			out = append(out, marked{Text: text[i:]})
			break
		}
		if best > 0 {
			out = append(out, marked{Text: text[i : i+best]})
		}
		out = append(out, marked{Text: text[i+best : i+best+bestLen], Mark: true})
		i += best + bestLen
	}
	return out
}

// queryWords are the words a search looks for, lower case, without the
// operators websearch_to_tsquery understands.
func queryWords(q string) []string {
	var out []string
	for _, f := range strings.Fields(strings.ToLower(q)) {
		f = strings.Trim(f, `"'()`)
		if f == "" || f == "or" || f == "and" || strings.HasPrefix(f, "-") {
			continue
		}
		out = append(out, f)
	}
	return out
}

func rankName(r float64) string {
	switch {
	case r >= 5:
		return "founder"
	case r >= 3:
		return "admin"
	case r >= 2:
		return "moderator"
	case r >= 1:
		return "registered"
	case r >= 0:
		return "guest"
	}
	return "anonymous"
}

func mediaDuration(sec int) string {
	if sec <= 0 {
		return "live"
	}
	d := time.Duration(sec) * time.Second
	if d >= time.Hour {
		return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, sec%60)
	}
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), sec%60)
}

// --- the pages ---

type indexChannel struct {
	Name   string
	Public bool
	Live   hub.Snapshot
}

type indexPage struct {
	basePage
	Channels []indexChannel
}

func (s *Server) pageIndex(w http.ResponseWriter, r *http.Request) {
	p := indexPage{basePage: s.base(r, "Channels")}
	for _, c := range s.shown() {
		name := c.Name
		ic := indexChannel{Name: name, Public: c.Public}
		if c.Public {
			ic.Live = s.cfg.Hub.Snapshot(name, false)
		}
		p.Channels = append(p.Channels, ic)
	}
	s.render(w, r, http.StatusOK, "index", indexView(p))
}

type channelPage struct {
	basePage
	Live  hub.Snapshot
	Stats Stats
}

func (s *Server) pageChannel(w http.ResponseWriter, r *http.Request) {
	c, ok := s.channel(w, r)
	if !ok {
		return
	}
	b, ok := s.zonedBase(w, r, c.Name)
	if !ok {
		return
	}
	st, err := s.cfg.Store.Stats(r.Context(), c.Name, c.Bot, b.Loc)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	p := channelPage{basePage: b, Stats: st}
	p.Live = s.cfg.Hub.Snapshot(c.Name, p.Moderator)
	p.Nav = "overview"
	s.render(w, r, http.StatusOK, "channel", channelView(p))
}

// pageSize is how many lines a log or search page shows.
const pageSize = 100

type logPage struct {
	basePage
	Date       string
	Prev, Next string // neighbouring days
	Q          string
	Lines      []Line
	More       string // query string of the next page, if any
	Search     bool
}

// dayLink is the address of another day of this log, in the same zone.
func (p logPage) dayLink(date string) string {
	v := url.Values{"date": {date}}
	if p.TZParam != "" {
		v.Set("tz", p.TZParam)
	}
	return "?" + v.Encode()
}

func (s *Server) pageLog(w http.ResponseWriter, r *http.Request) {
	c, ok := s.channel(w, r)
	if !ok {
		return
	}
	v := r.URL.Query()
	b, ok := s.zonedBase(w, r, c.Name+" log")
	if !ok {
		return
	}
	p := logPage{basePage: b}
	q := MessageQuery{Channel: c.Name, Limit: pageSize, Moderator: p.Moderator}
	p.Nav = "log"
	if p.Q = strings.TrimSpace(v.Get("q")); p.Q != "" {
		if len(p.Q) > 200 {
			s.badRequest(w, r, "A search may be at most 200 characters long.")
			return
		}
		q.Q, p.Search = p.Q, true
	}
	if raw := v.Get("before"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			s.badRequest(w, r, "before must be a line number.")
			return
		}
		q.Before = id
	}
	if raw := v.Get("after"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			s.badRequest(w, r, "after must be a line number.")
			return
		}
		q.After = id
	}
	if !p.Search {
		y, m, d := s.cfg.Now().In(p.Loc).Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, p.Loc)
		if raw := v.Get("date"); raw != "" {
			d, err := time.ParseInLocation(time.DateOnly, raw, p.Loc)
			if err != nil {
				s.badRequest(w, r, "date must look like 2026-12-01.")
				return
			}
			day = d
		}
		p.Date = day.Format(time.DateOnly)
		p.Prev, p.Next = day.AddDate(0, 0, -1).Format(time.DateOnly), day.AddDate(0, 0, 1).Format(time.DateOnly)
		q.Since, q.Until = day, day.AddDate(0, 0, 1)
	}
	lines, more, err := s.cfg.Store.Messages(r.Context(), q)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	p.Lines = lines
	if more && len(lines) > 0 {
		next := url.Values{}
		last := lines[len(lines)-1].ID
		if p.Search {
			next.Set("q", p.Q)
			next.Set("before", strconv.FormatInt(last, 10))
		} else {
			next.Set("date", p.Date)
			next.Set("after", strconv.FormatInt(last, 10))
		}
		if p.TZParam != "" {
			next.Set("tz", p.TZParam)
		}
		p.More = next.Encode()
	}
	s.render(w, r, http.StatusOK, "log", logView(p))
}

type userPage struct {
	basePage
	User UserInfo
}

func (s *Server) pageUser(w http.ResponseWriter, r *http.Request) {
	c, ok := s.channel(w, r)
	if !ok {
		return
	}
	name := r.PathValue("user")
	if !userPattern.MatchString(name) {
		s.notFound(w, r, "That is not a CyTube user name.")
		return
	}
	b, ok := s.zonedBase(w, r, name+" in "+c.Name)
	if !ok {
		return
	}
	u, err := s.cfg.Store.User(r.Context(), c.Name, name, b.Moderator)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	b.Title = u.Name + " in " + c.Name
	s.render(w, r, http.StatusOK, "user", userView(userPage{basePage: b, User: u}))
}

type livePage struct {
	basePage
	Live hub.Snapshot
}

func (s *Server) pageLive(w http.ResponseWriter, r *http.Request) {
	c, ok := s.channel(w, r)
	if !ok {
		return
	}
	b, ok := s.zonedBase(w, r, c.Name+" live")
	if !ok {
		return
	}
	p := livePage{basePage: b}
	p.Live = s.cfg.Hub.Snapshot(c.Name, p.Moderator)
	p.Nav = "live"
	s.render(w, r, http.StatusOK, "live", liveView(p))
}
