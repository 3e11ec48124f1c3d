package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
)

// apiError is every API error body.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func (s *Server) apiRoutes(mux *http.ServeMux, gz func(http.HandlerFunc) http.Handler) {
	mux.Handle("GET /api/v1/openapi.json", gz(s.serveOpenAPI))
	mux.Handle("GET /api/v1/channels", gz(s.apiChannels))
	mux.Handle("GET /api/v1/channels/{channel}/stats", gz(s.apiStats))
	mux.Handle("GET /api/v1/channels/{channel}/messages", gz(s.apiMessages))
	mux.Handle("GET /api/v1/channels/{channel}/users/{user}", gz(s.apiUser))
	mux.HandleFunc("GET /api/v1/channels/{channel}/events", s.serveEvents)
	mux.Handle("POST /api/v1/channels/{channel}/say", gz(s.apiSay))
	mux.Handle("/api/", gz(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, apiError{Error: "no such API endpoint"})
	}))
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, _ := files.ReadFile("static/openapi.json")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(doc)
}

// APIChannel is one entry of GET /channels.
type APIChannel struct {
	Name        string          `json:"name"`
	Public      bool            `json:"public"`
	State       string          `json:"state"`
	UsersOnline int             `json:"users_online"`
	Users       []hub.Member    `json:"users"`
	NowPlaying  *hub.NowPlaying `json:"now_playing,omitempty"`
}

func (s *Server) apiChannels(w http.ResponseWriter, r *http.Request) {
	out := []APIChannel{}
	for _, c := range s.shown() {
		name := c.Name
		ac := APIChannel{Name: name, Public: c.Public, State: "hidden", Users: []hub.Member{}}
		if c.Public {
			snap := s.cfg.Hub.Snapshot(name, false)
			ac.State, ac.Users, ac.UsersOnline, ac.NowPlaying = snap.State, snap.Users, len(snap.Users), snap.NowPlaying
		}
		out = append(out, ac)
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": out})
}

// APIStats is GET /channels/{channel}/stats.
type APIStats struct {
	Channel string       `json:"channel"`
	Live    hub.Snapshot `json:"live"`
	Stats
}

func (s *Server) apiStats(w http.ResponseWriter, r *http.Request) {
	c, ok := s.channel(w, r)
	if !ok {
		return
	}
	loc, _, ok := s.zone(w, r)
	if !ok {
		return
	}
	st, err := s.cfg.Store.Stats(r.Context(), c.Name, c.Bot, loc)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, APIStats{Channel: c.Name, Live: s.cfg.Hub.Snapshot(c.Name, false), Stats: st})
}

// API paging limits.
const (
	defaultLimit = 100
	maxLimit     = 500
)

// APIMessages is GET /channels/{channel}/messages.
type APIMessages struct {
	Messages   []Line `json:"messages"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func (s *Server) apiMessages(w http.ResponseWriter, r *http.Request) {
	c, ok := s.channel(w, r)
	if !ok {
		return
	}
	loc, _, ok := s.zone(w, r)
	if !ok {
		return
	}
	q, msg := parseMessageQuery(r, c.Name, loc)
	if msg != "" {
		s.badRequest(w, r, msg)
		return
	}
	// A moderator signed in to this channel (the session cookie of the
	// !web sign-in) gets the hidden lines too, marked hidden; PMs are never
	// chat lines, so nobody gets those.
	q.Moderator = s.moderatorOf(r, c.Name) != nil
	lines, more, err := s.cfg.Store.Messages(r.Context(), q)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := APIMessages{Messages: lines}
	if out.Messages == nil {
		out.Messages = []Line{}
	}
	if more && len(lines) > 0 {
		out.NextCursor = encodeCursor(q.Newest(), lines[len(lines)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// parseMessageQuery reads since, until (dates in loc), q, user, limit and
// cursor; msg says what is wrong with them.
func parseMessageQuery(r *http.Request, channel string, loc *time.Location) (q MessageQuery, msg string) {
	v := r.URL.Query()
	q = MessageQuery{Channel: channel, Limit: defaultLimit}
	var ok bool
	if q.Since, ok = parseMoment(v.Get("since"), loc); !ok {
		return q, "since must be a date (2026-12-01) or an RFC 3339 time"
	}
	if q.Until, ok = parseMoment(v.Get("until"), loc); !ok {
		return q, "until must be a date (2026-12-01) or an RFC 3339 time"
	}
	if q.Q = strings.TrimSpace(v.Get("q")); len(q.Q) > 200 {
		return q, "q may be at most 200 characters long"
	}
	if q.User = v.Get("user"); q.User != "" && !userPattern.MatchString(q.User) {
		return q, "user is not a CyTube user name"
	}
	if raw := v.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxLimit {
			return q, "limit must be a whole number from 1 to " + strconv.Itoa(maxLimit)
		}
		q.Limit = n
	}
	if raw := v.Get("cursor"); raw != "" {
		newest, id, ok := decodeCursor(raw)
		if !ok {
			return q, "cursor is not one this server handed out"
		}
		if newest {
			q.Before = id
		} else {
			q.After = id
		}
	}
	return q, ""
}

// parseMoment reads an RFC 3339 time, or a date, which starts at midnight
// in loc.
func parseMoment(raw string, loc *time.Location) (time.Time, bool) {
	if raw == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation(time.DateOnly, raw, loc); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// Cursors are opaque to clients: the direction and the last id seen.
func encodeCursor(newest bool, id int64) string {
	dir := "a"
	if newest {
		dir = "b"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(dir + ":" + strconv.FormatInt(id, 10)))
}

func decodeCursor(raw string) (newest bool, id int64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return false, 0, false
	}
	dir, num, found := strings.Cut(string(b), ":")
	if !found || (dir != "a" && dir != "b") {
		return false, 0, false
	}
	id, err = strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return false, 0, false
	}
	return dir == "b", id, true
}

func (s *Server) apiUser(w http.ResponseWriter, r *http.Request) {
	c, ok := s.channel(w, r)
	if !ok {
		return
	}
	name := r.PathValue("user")
	if !userPattern.MatchString(name) {
		s.notFound(w, r, "no such user")
		return
	}
	u, err := s.cfg.Store.User(r.Context(), c.Name, name, s.moderatorOf(r, c.Name) != nil)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}
