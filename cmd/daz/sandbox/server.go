// Package sandbox is a small local CyTube-compatible server. It lets a
// newcomer try daz with no account and no internet, and gives end-to-end tests
// a real peer that speaks the same Engine.IO v4 / Socket.IO wire protocol as
// CyTube 3.86 (see testdata/frames/README.md for the recorded facts it copies).
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Account is a registered user of the sandbox.
type Account struct {
	Password string
	// Rank is the account's rank in every channel listed in Options.Channels
	// (2 moderator, 3 channel admin, 5 founder). In channels nobody
	// registered, every account has rank 1, as on CyTube.
	Rank float64
}

// Clock tells the time; actors/clock.Clock satisfies it. Chat timestamps and
// the flood limiter read it, so tests can freeze or replay time.
type Clock interface {
	Now() time.Time
}

// Options configures a Server. The zero value is usable.
type Options struct {
	// Addr is where Start listens. Default "127.0.0.1:8080", the address the
	// transcripts were recorded on.
	Addr string
	// Channels are the registered channels. Default ["sandbox"]. Joining any
	// other valid name opens an unregistered channel, as CyTube does.
	Channels []string
	// Accounts are the registered users, keyed by name (case-insensitive).
	// Default: DefaultAccounts().
	Accounts map[string]Account
	// PingInterval and PingTimeout drive the Engine.IO heartbeat. Defaults
	// 25s and 120s as recorded; tests shorten them.
	PingInterval time.Duration
	PingTimeout  time.Duration
	// GuestLoginInterval, when set, allows one guest login per client IP per
	// interval ("Guest logins are restricted to one per IP address per 60
	// seconds." on CyTube). Default 0: off, because every local client shares
	// 127.0.0.1.
	GuestLoginInterval time.Duration
	// MaxSocketsPerIP caps the sockets one client IP may have connected at
	// once; the next one is kicked with "Too many connections from your IP
	// address" and closed. 0: no cap. CyTube's is CyTubeMaxSocketsPerIP.
	MaxSocketsPerIP int
	// ConnectBurst sockets per client IP may connect at once, then one per
	// ConnectInterval; an excess socket's "40" is answered with
	// 44{"message":"Rate limit exceeded"}. 0: no limit. CyTube's are
	// CyTubeConnectBurst and CyTubeConnectInterval.
	ConnectBurst    int
	ConnectInterval time.Duration
	// ManualPings stops the heartbeat: the server pings only when a test
	// calls PingAll, and never drops a silent client.
	ManualPings bool
	// Record keeps every frame of every socket for Socket(n). For tests: it
	// grows without bound.
	Record bool
	// ResolveMedia says what a queued id is. Default: "cm" URLs and "yt" ids
	// are 3-minute items named after the id.
	ResolveMedia func(typ, id string) (Media, error)
	// MediaUpdateInterval is how often playing media is announced with
	// mediaUpdate (and ended items advanced). Default 5 s as on CyTube;
	// negative: never by itself, tests call MediaTick.
	MediaUpdateInterval time.Duration
	// ChannelPasswords makes registered channels password-protected
	// (lower-case name → password): joining without it gets needPassword,
	// as on CyTube, and a logged-in user of rank 2 or more is let in.
	ChannelPasswords map[string]string
	// Hooks script misbehaviour for tests.
	Hooks  Hooks
	Logger *slog.Logger
	Clock  Clock
}

// CyTube 3.86's connection limits (see testdata/frames/README.md).
const (
	CyTubeMaxSocketsPerIP = 10
	CyTubeConnectBurst    = 5
	CyTubeConnectInterval = 10 * time.Second
)

// DefaultAccounts are the accounts a fresh sandbox knows: the bot, a plain
// user and a channel founder. Passwords equal the names: this server is for
// local play only.
func DefaultAccounts() map[string]Account {
	return map[string]Account{
		"dazbot": {Password: "dazbot", Rank: 2},
		"alice":  {Password: "alice", Rank: 1},
		"owner":  {Password: "owner", Rank: 5},
	}
}

const (
	defaultAddr         = "127.0.0.1:8080"
	defaultChannel      = "sandbox"
	defaultPingInterval = 25 * time.Second
	defaultPingTimeout  = 120 * time.Second
	// defaultMediaUpdateInterval is how often CyTube sends mediaUpdate.
	defaultMediaUpdateInterval = 5 * time.Second
	// maxPayload is announced in the open packet and enforced on reads.
	maxPayload = 1 << 20
)

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// Server is one sandbox instance. All channel state sits behind mu; handlers
// only enqueue frames while holding it, so a slow client never stalls others.
type Server struct {
	opts     Options
	log      *slog.Logger
	clock    Clock
	upgrader websocket.Upgrader
	render   *chatRenderer
	http     *http.Server

	mu          sync.Mutex
	accounts    map[string]accountEntry // by lower-case name
	channels    map[string]*channel
	conns       map[*conn]struct{}
	guestLogins map[string]time.Time // client IP → last guest login
	connRate    map[string]*bucket   // client IP → connection-rate bucket
	connectLog  []ConnectRecord      // every "40", for tests (ConnectLog)
	nextConnID  uint64
	nextBanID   int
	url         string
	closed      bool
	listener    net.Listener
	accepted    []*conn // every socket in accept order, when recorded
	faults      faults  // set by tests through the hooks
	// duplicateLogins counts joins that found the same account already in
	// the channel: two sessions of one account at once.
	duplicateLogins int

	wg      sync.WaitGroup // connection goroutines
	stopped chan struct{}  // closed by Close
}

type accountEntry struct {
	name string // as configured, shown to others
	Account
}

// New validates opts and builds a Server; call Start or Serve to run it.
func New(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = defaultAddr
	}
	if len(opts.Channels) == 0 {
		opts.Channels = []string{defaultChannel}
	}
	if opts.Accounts == nil {
		opts.Accounts = DefaultAccounts()
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = defaultPingInterval
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = defaultPingTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	if opts.ResolveMedia == nil {
		opts.ResolveMedia = defaultResolveMedia
	}
	if opts.MediaUpdateInterval == 0 {
		opts.MediaUpdateInterval = defaultMediaUpdateInterval
	}
	s := &Server{
		opts:        opts,
		log:         opts.Logger.With("actor", "sandbox"),
		clock:       opts.Clock,
		render:      newChatRenderer(),
		accounts:    make(map[string]accountEntry, len(opts.Accounts)),
		channels:    make(map[string]*channel),
		conns:       make(map[*conn]struct{}),
		guestLogins: make(map[string]time.Time),
		connRate:    make(map[string]*bucket),
		stopped:     make(chan struct{}),
	}
	for name, acc := range opts.Accounts {
		if !validUserName(name) {
			return nil, fmt.Errorf("sandbox: account %q: name must match %s", name, userNamePattern)
		}
		key := strings.ToLower(name)
		if _, dup := s.accounts[key]; dup {
			return nil, fmt.Errorf("sandbox: account %q is configured twice (names are case-insensitive)", name)
		}
		s.accounts[key] = accountEntry{name: name, Account: acc}
	}
	for _, name := range opts.Channels {
		if !validChannelName(name) {
			return nil, fmt.Errorf("sandbox: channel %q: name must match %s", name, channelNamePattern)
		}
		key := strings.ToLower(name)
		s.channels[key] = newChannel(s, key, true)
		s.channels[key].password = opts.ChannelPasswords[key]
	}
	// Browsers on other local origins may talk to the sandbox too.
	s.upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// Start listens on Options.Addr and serves in the background until ctx ends
// or Close is called. It returns once the listener is up.
func (s *Server) Start(ctx context.Context) error {
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen on %s: %w", s.opts.Addr, err)
	}
	s.setURL(l)
	go func() {
		if err := s.Serve(l); err != nil {
			s.log.Error("sandbox server stopped", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.stopped:
		}
	}()
	return nil
}

// Serve serves HTTP and websockets on l until Close; it returns nil after a
// clean Close.
func (s *Server) Serve(l net.Listener) error {
	s.setURL(l)
	s.log.Info("sandbox listening", "url", s.URL())
	if every := s.opts.MediaUpdateInterval; every > 0 {
		s.mu.Lock()
		if !s.closed {
			s.wg.Add(1)
			go s.mediaTicker(every)
		}
		s.mu.Unlock()
	}
	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("sandbox: serve: %w", err)
}

func (s *Server) setURL(l net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.url == "" {
		s.url = "http://" + l.Addr().String()
	}
	s.listener = l
}

// URL is the base URL clients use ("http://127.0.0.1:port"), empty until the
// server listens. The websocket endpoint is URL with ws:// and
// /socket.io/?EIO=4&transport=websocket.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops the listener, drops every connection and waits for their
// goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stopped)
	conns := s.connList()
	s.mu.Unlock()

	err := s.http.Close()
	for _, c := range conns {
		c.drop("server closing")
	}
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("sandbox: close: %w", err)
	}
	return nil
}

// connList snapshots the open connections; callers hold mu.
func (s *Server) connList() []*conn {
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /socketconfig/{file}", s.handleSocketConfig)
	mux.HandleFunc("/socket.io/", s.handleEngineIO)
	mux.HandleFunc("GET /{$}", s.handlePage)
	return mux
}

func (s *Server) now() time.Time { return s.clock.Now() }
