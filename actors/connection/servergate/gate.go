// Package servergate keeps one daemon within what a CyTube server lets one
// client address do: at most MaxConnections sockets held at once, and
// connects paced to Burst at once, then one per Interval (CyTube's
// io.ip-connection-limit and its connect throttle; see
// testdata/frames/README.md). A CyTube server kicks the socket past the cap
// ("Too many connections from your IP address") and refuses a connect over
// the rate (44 "Rate limit exceeded"), and a daemon that keeps trying only
// flaps; so every connection to one server asks the same Gate first.
//
// It is a plain object, not an actor, shared the way sqlwriter.Intake is:
// the app makes one per daemon and hands it to every channel's connection
// through its Config, so two daemons (or two tests) never share one. It
// lives beside the connection because the connection is its only user that
// waits on it; others (the ownership of channels among daemons) only ask
// Free and HasFreeSlot.
//
// Waiting never blocks a goroutine: Acquire returns at once and calls the
// ready callback later, from a clock timer or from the Release that freed
// the slot, so the connection actor's mailbox stays free and a waiting
// channel stops at once.
package servergate

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/daz-bot/daz/actors/clock"
)

// Limits are what one server allows one client address.
type Limits struct {
	MaxConnections int           // sockets held at once
	Burst          int           // connects at once
	Interval       time.Duration // then one connect per Interval
}

// CyTube 3.86's defaults.
const (
	DefaultMaxConnections = 10
	DefaultBurst          = 5
	DefaultInterval       = 10 * time.Second
)

// DefaultLimits are CyTube's.
func DefaultLimits() Limits {
	return Limits{MaxConnections: DefaultMaxConnections, Burst: DefaultBurst, Interval: DefaultInterval}
}

// Validate reports limits no gate can keep.
func (l Limits) Validate() error {
	switch {
	case l.MaxConnections < 1:
		return fmt.Errorf("max connections must be at least 1, got %d", l.MaxConnections)
	case l.Burst < 1:
		return fmt.Errorf("connect burst must be at least 1, got %d", l.Burst)
	case l.Interval <= 0:
		return fmt.Errorf("connect interval must be positive, got %s", l.Interval)
	}
	return nil
}

// orDefault fills the zero fields of an override from def.
func (l Limits) orDefault(def Limits) Limits {
	if l.MaxConnections == 0 {
		l.MaxConnections = def.MaxConnections
	}
	if l.Burst == 0 {
		l.Burst = def.Burst
	}
	if l.Interval == 0 {
		l.Interval = def.Interval
	}
	return l
}

// Guard is how much slower than the server's interval the pacer spaces
// connects. The server counts a connect when its "40" arrives, the pacer
// when the attempt starts; the discovery request and the websocket dial in
// between take a varying time, and without the guard a connect that took
// less time than the one before would reach the server too early.
func Guard(interval time.Duration) time.Duration {
	return min(max(interval/10, 100*time.Millisecond), interval)
}

// Config configures a Gate.
type Config struct {
	// Default applies to every server without an override; its zero fields
	// are DefaultLimits'.
	Default Limits
	// Servers overrides the limits per server URL (any URL of the server:
	// Key reduces it); zero fields inherit Default.
	Servers map[string]Limits
	Clock   clock.Clock // default: the wall clock
}

// Gate is one daemon's set of per-server limits. Safe for concurrent use.
type Gate struct {
	clock clock.Clock
	def   Limits
	over  map[string]Limits // by Key

	mu      sync.Mutex
	servers map[string]*server // by Key
}

type server struct {
	limits Limits
	held   int       // slots granted or pacing, not yet released
	queue  []*Ticket // waiting for a slot, oldest first
	// pacer spaces the attempts, wire the connect requests ("40") they
	// send once their socket is open: the time from one to the other
	// varies (discovery, dial), and the server counts the second.
	pacer, wire *rate.Limiter
}

// New checks cfg and returns a Gate.
func New(cfg Config) (*Gate, error) {
	def := cfg.Default.orDefault(DefaultLimits())
	if err := def.Validate(); err != nil {
		return nil, fmt.Errorf("servergate: default limits: %w", err)
	}
	g := &Gate{clock: cfg.Clock, def: def, over: map[string]Limits{}, servers: map[string]*server{}}
	if g.clock == nil {
		g.clock = clock.Real()
	}
	for raw, l := range cfg.Servers {
		key, err := Key(raw)
		if err != nil {
			return nil, fmt.Errorf("servergate: %w", err)
		}
		l = l.orDefault(def)
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("servergate: limits of %s: %w", key, err)
		}
		g.over[key] = l
	}
	return g, nil
}

// Key names a server the way its limits apply: scheme and host, with the
// port only when it is not the scheme's default. Everything after the host
// (path, query) belongs to no limit.
func Key(serverURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(serverURL))
	if err != nil {
		return "", fmt.Errorf("server url %q: %w", serverURL, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("server url %q: want scheme://host[:port]", serverURL)
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

// keyOf is Key for callers that already validated the URL: a URL Key
// refuses stands for itself, so it still gets limits of its own.
func keyOf(serverURL string) string {
	if k, err := Key(serverURL); err == nil {
		return k
	}
	return serverURL
}

// Limits returns the limits that apply to serverURL.
func (g *Gate) Limits(serverURL string) Limits {
	if l, ok := g.over[keyOf(serverURL)]; ok {
		return l
	}
	return g.def
}

// serverLocked returns the state of one server, made on first use.
func (g *Gate) serverLocked(serverURL string) *server {
	key := keyOf(serverURL)
	s := g.servers[key]
	if s == nil {
		l := g.Limits(serverURL)
		every := rate.Every(l.Interval + Guard(l.Interval))
		s = &server{limits: l, pacer: rate.NewLimiter(every, l.Burst), wire: rate.NewLimiter(every, l.Burst)}
		g.servers[key] = s
	}
	return s
}

type ticketState int

const (
	queued  ticketState = iota // waiting for a slot
	pacing                     // holds a slot, waiting for the pacer
	granted                    // may connect; holds the slot until Release
	released
)

// Ticket is one connection's claim on a server: first its place in the
// queue, then its slot. Release ends it on every path.
type Ticket struct {
	g     *Gate
	srv   *server
	ready func()

	// under g.mu
	state ticketState
	res   *rate.Reservation
	timer clock.Timer
	until time.Time
}

// Acquire claims a slot to serverURL and the pacer's next connect. When
// both are available now it returns granted true and ready is never
// called. Otherwise the ticket waits, first in FIFO order for a slot, then
// for the pacer, and ready is called once, on another goroutine, when the
// connect may start. The caller must Release the ticket when its socket is
// closed, or when it gives up waiting.
func (g *Gate) Acquire(serverURL string, ready func()) (t *Ticket, granted bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.serverLocked(serverURL)
	t = &Ticket{g: g, srv: s, ready: ready, state: queued}
	if s.held < s.limits.MaxConnections && len(s.queue) == 0 {
		s.held++
		return t, g.paceLocked(t)
	}
	s.queue = append(s.queue, t)
	return t, false
}

// paceLocked takes the pacer's next connect for a ticket that holds a
// slot; true when that is now.
func (g *Gate) paceLocked(t *Ticket) bool {
	now := g.clock.Now()
	r := t.srv.pacer.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d <= 0 {
		t.state = granted
		return true
	}
	t.state, t.res, t.until = pacing, r, now.Add(d)
	t.timer = g.clock.AfterFunc(d, func() { g.paced(t) })
	return false
}

// paced: the pacer's time for t has come.
func (g *Gate) paced(t *Ticket) {
	g.mu.Lock()
	if t.state != pacing {
		g.mu.Unlock()
		return
	}
	t.state, t.timer, t.res = granted, nil, nil
	g.mu.Unlock()
	t.ready()
}

// Release gives the slot back (or leaves the queue) and hands it to the
// oldest waiter. A connect the pacer had scheduled but that never started
// gives its turn back. Calling it again does nothing.
func (t *Ticket) Release() {
	g := t.g
	g.mu.Lock()
	var wake []func()
	s := t.srv
	switch t.state {
	case queued:
		for i, q := range s.queue {
			if q == t {
				s.queue = append(s.queue[:i], s.queue[i+1:]...)
				break
			}
		}
	case pacing:
		t.timer.Stop()
		t.res.CancelAt(g.clock.Now())
		t.timer, t.res = nil, nil
		s.held--
		wake = g.promoteLocked(s)
	case granted:
		s.held--
		wake = g.promoteLocked(s)
	}
	t.state = released
	g.mu.Unlock()
	for _, f := range wake {
		f()
	}
}

// promoteLocked gives free slots to the oldest waiters; it returns the
// ready callbacks of those the pacer lets connect now, to be called
// outside the lock.
func (g *Gate) promoteLocked(s *server) []func() {
	var wake []func()
	for s.held < s.limits.MaxConnections && len(s.queue) > 0 {
		t := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.held++
		if g.paceLocked(t) {
			wake = append(wake, t.ready)
		}
	}
	return wake
}

// ConnectDelay is how long a granted ticket's socket should wait before
// it asks the server to connect (Socket.IO "40"), which is what the server
// counts against its rate. The pacer already spaced the attempts, so this
// is at most the spread of their discovery and dial times; it takes the
// turn, so call it once per socket, right before sending.
func (t *Ticket) ConnectDelay() time.Duration {
	g := t.g
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now()
	return max(t.srv.wire.ReserveN(now, 1).DelayFrom(now), 0)
}

// Until is when the pacer lets the ticket connect: zero while it still
// waits for a slot or once it may connect.
func (t *Ticket) Until() time.Time {
	t.g.mu.Lock()
	defer t.g.mu.Unlock()
	if t.state != pacing {
		return time.Time{}
	}
	return t.until
}

// Usage is one server's slots as the gate sees them.
type Usage struct {
	Max     int `json:"max"`
	Held    int `json:"held"`    // granted or about to connect
	Waiting int `json:"waiting"` // queued for a slot
}

// Usage reports one server's slots.
func (g *Gate) Usage(serverURL string) Usage {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s, ok := g.servers[keyOf(serverURL)]; ok {
		return Usage{Max: s.limits.MaxConnections, Held: s.held, Waiting: len(s.queue)}
	}
	return Usage{Max: g.Limits(serverURL).MaxConnections}
}

// Free is how many more connections to serverURL this daemon could hold:
// the slots neither held nor promised to a channel already waiting.
func (g *Gate) Free(serverURL string) int {
	u := g.Usage(serverURL)
	return max(u.Max-u.Held-u.Waiting, 0)
}

// HasFreeSlot says whether one more channel of serverURL would get a slot
// without waiting for another to close.
func (g *Gate) HasFreeSlot(serverURL string) bool { return g.Free(serverURL) > 0 }
