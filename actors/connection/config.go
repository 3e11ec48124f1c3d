package connection

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/gorilla/websocket"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection/servergate"
)

// Defaults for the zero values of Config.
const (
	DefaultHandshakeTimeout = 30 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	// DefaultPasswordGrace is how long a logged-in connection waits for
	// cancelNeedPassword on a password channel: CyTube lets a user of rank
	// 2 or more in once it has looked the rank up after the login.
	DefaultPasswordGrace = 5 * time.Second
	defaultHTTPTimeout   = 15 * time.Second
	// maxFrameBytes bounds one websocket frame. CyTube announces a
	// maxPayload of 1 MB but sends bigger frames itself (a 2000-item
	// playlist is ~730 KB, bigger playlists exceed 1 MB), so allow more.
	maxFrameBytes = 16 << 20
)

// Config describes one channel connection. The zero values of the optional
// fields get sensible defaults.
type Config struct {
	Channel         string
	ServerURL       string // e.g. https://cytu.be; discovery runs against it
	Username        string // empty: stay anonymous
	Password        string // empty with a Username: guest login
	ChannelPassword string // sent with joinChannel on password channels

	// Sinks receive every decoded *messages.Event, in receive order, straight
	// from the reader goroutine (the SQL writer, the EventFilter, ...).
	Sinks []*actor.PID
	// Intake, when set, holds the reader back while the SQL writer (one of
	// the Sinks) has too many events still to take: the reader waits on it
	// before it sends an event and stops reading the socket meanwhile.
	Intake Intake

	HTTPClient       *http.Client      // discovery; default has a 15 s timeout
	Dialer           *websocket.Dialer // default: NewDialer()
	HandshakeTimeout time.Duration     // from discovery to online (clock time)
	WriteTimeout     time.Duration     // per websocket write (socket deadline)
	PasswordGrace    time.Duration     // after a login, wait this long for cancelNeedPassword
	Clock            clock.Clock       // default: the actor system's clock
	Logger           *slog.Logger      // default: the actor system's logger

	// SkewTolerance is how far the server clock may lag ours: a chat line
	// whose server time is older than the socket's join minus this is
	// stamped as join backlog (JoinTracker). Default DefaultSkewTolerance.
	SkewTolerance time.Duration

	// Attempts is asked before every attempt for its number and the earliest
	// time it may start; the supervisor strategy implements it. Nil means
	// every incarnation is attempt 1 and starts at once.
	Attempts supervision.AttemptSource

	// Counters, when set, is updated by the reader; the owner reads it.
	Counters *Counters

	// ServerGate, when set, is the daemon's per-server limits: every
	// attempt holds one of its slots from before discovery until its
	// socket is closed, and starts when its pacer allows. Without a slot
	// the connection waits (StateWaitingForSlot), which is no failure.
	ServerGate *servergate.Gate
}

// Intake is the writer's back-pressure gauge (sqlwriter.Intake). Wait
// returns when there is room, or with an error when ctx ended or the writer
// took nothing for a bounded pause (the reader logs it and reads on); Sent
// counts an event handed to the sinks.
type Intake interface {
	Wait(ctx context.Context) error
	Sent(ev *messages.Event)
}

// LogValue keeps the passwords out of every log line.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("channel", c.Channel),
		slog.String("server_url", c.ServerURL),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password != ""),
		slog.Bool("channel_password_set", c.ChannelPassword != ""),
		slog.Int("sinks", len(c.Sinks)),
	)
}

// Validate reports a Config no attempt could use; app.New calls it before
// any actor starts.
func (c Config) Validate() error {
	if strings.TrimSpace(c.Channel) == "" {
		return fmt.Errorf("connection: empty channel name")
	}
	u, err := url.Parse(c.ServerURL)
	if err != nil {
		return fmt.Errorf("connection: server url %q: %w", c.ServerURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("connection: server url %q: want http(s)://host", c.ServerURL)
	}
	return nil
}

func (c Config) withDefaults(sysClock clock.Clock, sysLogger *slog.Logger) Config {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if c.Dialer == nil {
		c.Dialer = NewDialer()
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.PasswordGrace <= 0 {
		c.PasswordGrace = DefaultPasswordGrace
	}
	if c.Clock == nil {
		c.Clock = sysClock
	}
	if c.Logger == nil {
		c.Logger = sysLogger
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
