// Package debugserver is the daemon's local HTTP endpoint: the live actor
// tree (JSON and a self-refreshing page), health, readiness, Prometheus
// metrics and pprof. Handlers are thin wrappers over typed reports that the
// app produces (nats-server's monitoring endpoints follow the same split).
package debugserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/daz-bot/daz/actors/actorkit"
)

// Introspector produces the typed reports the handlers serve.
type Introspector interface {
	Actors() ActorsReport
	Ready(ctx context.Context) Readiness
	Cluster() ClusterReport
}

// ClusterReport is /debug/cluster: the daemons sharing the database and
// the owner of each channel, as this daemon last read them from the locks.
type ClusterReport struct {
	GeneratedAt time.Time `json:"generated_at"`
	Node        string    `json:"node"`
	// Connected: this daemon's lock session was confirmed at its last round.
	Connected bool `json:"connected"`
	// Share is ⌈channels / live daemons⌉.
	Share           int            `json:"share"`
	Fences          int64          `json:"fences"`
	LastFence       *time.Time     `json:"last_fence,omitempty"`
	DuplicateLogins int64          `json:"duplicate_logins"`
	LastError       string         `json:"last_error,omitempty"`
	CheckedAt       *time.Time     `json:"checked_at,omitempty"`
	Nodes           []ClusterNode  `json:"nodes"`
	Channels        []ChannelOwner `json:"channels"`
}

// ClusterNode is one daemon of the group.
type ClusterNode struct {
	Name        string    `json:"name"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
	// Live: its lock session is connected now.
	Live     bool     `json:"live"`
	Channels []string `json:"channels"`
}

// ChannelOwner names the daemon holding a channel's lock, or "unowned".
type ChannelOwner struct {
	Channel string `json:"channel"`
	Owner   string `json:"owner"`
	// State is the connection state of a channel this daemon owns (online,
	// waiting for a connection slot, ...); others' channels have none here.
	State string `json:"state,omitempty"`
}

// ActorsReport is the body of /debug/actors.
type ActorsReport struct {
	GeneratedAt time.Time           `json:"generated_at"`
	Version     string              `json:"version"`
	Actors      []actorkit.NodeInfo `json:"actors"`
}

// Readiness is the body of /readyz.
type Readiness struct {
	Ready bool `json:"ready"`
	// Node, Share and Owned place the daemon in its group: it is ready once
	// it owns its share (or nothing is left to take) and each channel it
	// owns is online or deliberately stopped.
	Node     string             `json:"node,omitempty"`
	Share    int                `json:"share"`
	Owned    []string           `json:"owned"`
	Database CheckResult        `json:"database"`
	Channels []ChannelReadiness `json:"channels"`
}

// CheckResult is one dependency check.
type CheckResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// ChannelReadiness says whether one channel is online; Detail says why not
// (stopped because of a ban or refused credentials, backing off after ...).
type ChannelReadiness struct {
	Channel string `json:"channel"`
	State   string `json:"state"`
	Ready   bool   `json:"ready"`
	Detail  string `json:"detail,omitempty"`
}

// Config configures the endpoint.
type Config struct {
	Addr     string
	Token    string // required unless Addr is a loopback address
	Reports  Introspector
	Registry *prometheus.Registry // nil: no /metrics
	Logger   *slog.Logger
}

// ErrTokenRequired is returned for a non-loopback address without a token.
var ErrTokenRequired = errors.New("debug.addr is not a loopback address: set debug.token so the endpoint is not open to the network")

// Server is the debug HTTP server.
type Server struct {
	cfg    Config
	ln     net.Listener
	server *http.Server
}

// Listen validates the configuration and binds the address; Serve starts it.
func Listen(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if !IsLoopback(cfg.Addr) && cfg.Token == "" {
		return nil, fmt.Errorf("debug endpoint %q: %w", cfg.Addr, ErrTokenRequired)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("debug endpoint: listen on %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, ln: ln}
	s.server = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	return s, nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown.
func (s *Server) Serve() error {
	err := s.server.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the server gracefully.
func (s *Server) Shutdown(ctx context.Context) error { return s.server.Shutdown(ctx) }

// Handler returns the routes, behind the token check when a token is set.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/actors", s.handleActors)
	mux.HandleFunc("GET /debug/actors.html", s.handleActorsPage)
	mux.HandleFunc("GET /debug/cluster", s.handleCluster)
	mux.HandleFunc("GET /debug/{$}", s.handleIndex)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	if s.cfg.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{Registry: s.cfg.Registry}))
	}
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if s.cfg.Token == "" {
		return mux
	}
	want := []byte("Bearer " + s.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The tree page is static and holds no data; a browser cannot send a
		// bearer header when navigating, so the page is served openly and its
		// script sends the token (read from the URL fragment, which never
		// leaves the browser) with every data request.
		if r.Method == http.MethodGet && r.URL.Path == "/debug/actors.html" {
			mux.ServeHTTP(w, r)
			return
		}
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="daz"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// IsLoopback reports whether addr (host:port) only listens on loopback.
// An empty host or 0.0.0.0 listens everywhere, so it is not loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
