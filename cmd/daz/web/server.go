// Package web is daz's web face: server-rendered pages of each channel
// (overview, stats, the searchable log, users, a live view), a JSON API
// under /api/v1, and their HTTP hygiene (timeouts, gzip, cached static
// assets, a strict Content-Security-Policy, per-IP rate limiting).
//
// It is not an actor. Handlers are thin: they parse and check the request
// into a typed query, ask the Store (history, from PostgreSQL through the
// web's own read pool) or the hub (live state, fed by the web plugin of
// each channel), and render. Pages and the API share those queries, so
// they show the same data.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzhttp"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
)

// DefaultAddr is where the web server listens unless configured.
const DefaultAddr = "127.0.0.1:8090"

// ChannelConfig is one channel the web shows.
type ChannelConfig struct {
	Name string // lower case
	// Public channels are shown to everyone; the others only to a signed-in
	// moderator of that channel.
	Public bool
	Bot    string // the bot's own name, left out of the top chatters
}

// Config is the web server's wiring.
type Config struct {
	Addr      string
	PublicURL string // base of the links the daemon hands out; http://Addr when empty
	Channels  []ChannelConfig
	Store     *Store
	Hub       *hub.Hub
	Logger    *slog.Logger
	Now       func() time.Time
	Version   string

	// RatePerSecond and Burst limit each client IP; 0 picks 20/s, burst 60.
	RatePerSecond float64
	Burst         int
}

// Server is the running web server.
type Server struct {
	cfg Config
	log *slog.Logger
	// The channels follow the group's registry while the server runs
	// (SetChannels), hence the lock.
	chMu     sync.RWMutex
	channels map[string]ChannelConfig
	order    []string
	limiter  *ipLimiter
	auth     *authStore
	assets   *assets
	ln       net.Listener
	srv      *http.Server
	closing  chan struct{}
	once     sync.Once
}

// New checks cfg and builds the server without listening.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Hub == nil {
		cfg.Hub = hub.New()
	}
	if cfg.RatePerSecond <= 0 {
		cfg.RatePerSecond = 20
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 60
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With(slog.String("actor", "web")), channels: map[string]ChannelConfig{},
		closing: make(chan struct{})}
	s.SetChannels(cfg.Channels)
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	s.limiter = newIPLimiter(cfg.RatePerSecond, cfg.Burst, cfg.Now)
	s.auth = newAuthStore()
	cfg.Hub.SetLoginIssuer(s.issueLogin)
	return s, nil
}

// SetChannels replaces the channels the pages and the API show, in the
// order given: channels added to or removed from the group's registry
// appear and disappear without a restart.
func (s *Server) SetChannels(cs []ChannelConfig) {
	channels := make(map[string]ChannelConfig, len(cs))
	order := make([]string, 0, len(cs))
	for _, c := range cs {
		c.Name = strings.ToLower(c.Name)
		if _, dup := channels[c.Name]; dup {
			continue
		}
		channels[c.Name] = c
		order = append(order, c.Name)
	}
	s.chMu.Lock()
	s.channels, s.order = channels, order
	s.chMu.Unlock()
}

// lookup is the configuration of one channel shown here.
func (s *Server) lookup(name string) (ChannelConfig, bool) {
	s.chMu.RLock()
	defer s.chMu.RUnlock()
	c, ok := s.channels[name]
	return c, ok
}

// shown lists the channels shown here, in order.
func (s *Server) shown() []ChannelConfig {
	s.chMu.RLock()
	defer s.chMu.RUnlock()
	out := make([]ChannelConfig, 0, len(s.order))
	for _, name := range s.order {
		out = append(out, s.channels[name])
	}
	return out
}

// Listen binds cfg.Addr; Serve then serves until Shutdown.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("web server: listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		// The live streams lift this for themselves (see serveEvents).
		WriteTimeout:   30 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 16 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.srv.RegisterOnShutdown(s.closeStreams)
	return nil
}

// Addr is the bound address.
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.cfg.Addr
	}
	return s.ln.Addr().String()
}

// URL is the base URL links are built on.
func (s *Server) URL() string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	return "http://" + s.Addr()
}

// Serve serves until Shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web server: %w", err)
	}
	return nil
}

// Shutdown ends the live streams, then waits for the other requests.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeStreams()
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

func (s *Server) closeStreams() { s.once.Do(func() { close(s.closing) }) }

var (
	channelPattern = regexp.MustCompile(`^[a-z0-9_-]{1,30}$`)
	// CyTube names: 1-20 of letters, digits, _ and -; [server] is not one.
	userPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,20}$`)
)

// maxQuery bounds the query string; longer ones are refused with 400.
const maxQuery = 2048

// Handler is every route behind the shared middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	gz := func(h http.HandlerFunc) http.Handler { return gzhttp.GzipHandler(h) }
	mux.Handle("GET /static/{name}", gz(s.serveAsset))
	mux.Handle("GET /{$}", gz(s.pageIndex))
	mux.Handle("GET /c/{channel}", gz(s.pageChannel))
	mux.Handle("GET /c/{channel}/log", gz(s.pageLog))
	mux.Handle("GET /c/{channel}/u/{user}", gz(s.pageUser))
	mux.Handle("GET /c/{channel}/live", gz(s.pageLive))
	// Event streams are not compressed: gzip would hold lines back.
	mux.HandleFunc("GET /c/{channel}/live/events", s.serveEvents)
	mux.Handle("POST /c/{channel}/say", gz(s.postSay))
	mux.Handle("GET /login", gz(s.pageLogin))
	mux.Handle("POST /login", gz(s.postLogin))
	mux.Handle("POST /logout", gz(s.postLogout))
	s.apiRoutes(mux, gz)
	mux.Handle("/", gz(func(w http.ResponseWriter, r *http.Request) {
		s.notFound(w, r, "There is no such page.")
	}))
	return s.secure(s.limit(mux))
}

// secure sets the headers every response carries. The policy allows only
// this server's own scripts, styles and images: no inline script, nothing
// from elsewhere.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		if len(r.URL.RawQuery) > maxQuery {
			s.badRequest(w, r, "The query string is too long.")
			return
		}
		if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
			s.badRequest(w, r, "The query string is malformed.")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		}
		next.ServeHTTP(w, r)
	})
}

// limit applies the per-IP rate limit.
func (s *Server) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		if !s.limiter.allow(ip) {
			w.Header().Set("Retry-After", "1")
			s.fail(w, r, http.StatusTooManyRequests, "Too many requests", "Slow down a little and try again in a second.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// channel resolves {channel}: the config entry, or a 404 already written.
// A channel that is not public is shown to its moderators only.
func (s *Server) channel(w http.ResponseWriter, r *http.Request) (ChannelConfig, bool) {
	name := strings.ToLower(r.PathValue("channel"))
	c, ok := s.lookup(name)
	if !channelPattern.MatchString(name) || !ok {
		s.notFound(w, r, "This daemon serves no channel of that name.")
		return ChannelConfig{}, false
	}
	if !c.Public && s.moderatorOf(r, name) == nil {
		s.fail(w, r, http.StatusForbidden, "Moderators only",
			"This channel's pages are for its moderators. To sign in, send the bot a PM in the channel: !web")
		return ChannelConfig{}, false
	}
	return c, true
}

// storeError answers a failed query: 503 "temporarily unavailable" for the
// database being away or too slow.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrNotFound) {
		s.notFound(w, r, "Nobody of that name has been seen in this channel.")
		return
	}
	if errors.Is(r.Context().Err(), context.Canceled) {
		return // the client left
	}
	s.log.Warn("web query failed", slog.String("path", r.URL.Path), slog.Bool("timeout", isTimeout(err)), slog.Any("error", err))
	w.Header().Set("Retry-After", "30")
	s.fail(w, r, http.StatusServiceUnavailable, "Temporarily unavailable",
		"The chat history cannot be read right now. The live view keeps working; try again in a little while.")
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	s.fail(w, r, http.StatusNotFound, "Not found", msg)
}

func (s *Server) badRequest(w http.ResponseWriter, r *http.Request, msg string) {
	s.fail(w, r, http.StatusBadRequest, "Bad request", msg)
}

// fail writes an error as JSON for the API and as a page otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, title, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, code, apiError{Error: msg})
		return
	}
	s.render(w, r, code, "error", errorView(errorPage{basePage: s.base(r, title), Code: code, Message: msg}))
}
