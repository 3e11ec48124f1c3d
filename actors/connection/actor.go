package connection

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/daz-bot/daz/supervision"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/actors/connection/servergate"
	"github.com/daz-bot/daz/messages"
)

// Props returns the Props of a channel's connection actor. The channel
// actor spawns it as its child "connection" and supervises it with
// supervision.ConnectionStrategy: every failed attempt is a failure of this
// actor carrying a *messages.ConnectionFailure.
func Props(sys *actorkit.System, cfg Config) *actor.Props {
	cfg = cfg.withDefaults(sys.Clock(), sys.Logger())
	return sys.Props("connection", func() actor.Actor {
		return &connActor{sys: sys, cfg: cfg}
	}, actorkit.WithStopPolicy(actorkit.StopNow))
}

// connActor is the state machine of one attempt. A new instance is made for
// every attempt (a restart by the supervisor), so it never carries state
// from a failed socket.
type connActor struct {
	sys *actorkit.System
	cfg Config
	log *slog.Logger

	self *actor.PID
	info supervision.AttemptInfo
	cur  *attempt

	phase        messages.ConnState
	nsConnected  bool // got 40{sid}
	online       bool
	loginName    string
	rank         float64
	sentChanPass bool
	pingLimit    time.Duration
	// A password channel answered joinChannel with needPassword: the
	// attempt is not in the channel until cancelNeedPassword. needPass is
	// the error to fail with if it never comes.
	needPass string
	loggedIn bool

	// ticket is this incarnation's claim on a slot of the server gate,
	// held from before discovery until the socket is closed.
	ticket *servergate.Ticket

	gate, handshake, liveness, passGrace, connectWait clock.Timer
}

func (a *connActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.self = ctx.Self()
		a.log = a.cfg.Logger.With(slog.String("channel", a.cfg.Channel), slog.String("actor", a.self.Id))
		if err := a.cfg.Validate(); err != nil {
			a.failWith(fail(messages.FailConfig, "", err))
		}
		a.begin(ctx)
	case *beginAttempt:
		if m.owner == a && a.cur == nil {
			a.begin(ctx)
		}
	case *slotReady:
		if m.owner == a && a.ticket != nil && a.cur == nil {
			a.launch()
		}
	case *actor.Stopping:
		a.cleanup(true)
	case *actor.Restarting:
		a.cleanup(false)
	case *messages.SendChat:
		a.send(ctx, m.Channel, func() ([]byte, error) { return frame.EncodeChatMsg(m.Msg, m.Meta) })
	case *messages.SendPM:
		a.send(ctx, m.Channel, func() ([]byte, error) { return frame.EncodePM(m.To, m.Msg, m.Meta) })
	case *messages.SendEvent:
		a.send(ctx, m.Channel, func() ([]byte, error) { return frame.EncodeEvent(m.Name, m.Payload) })
	default:
		a.receiveAttempt(ctx, m)
	}
}

// receiveAttempt handles what the attempt's goroutine and timers report.
func (a *connActor) receiveAttempt(ctx actor.Context, msg any) {
	switch m := msg.(type) {
	case *discovered:
		if a.current(m.at) {
			a.log.Debug("discovered", slog.String("url", m.wsURL), slog.Int("attempt", a.info.Number))
			a.setPhase(messages.StateConnecting)
		}
	case *attemptFailed:
		if a.current(m.at) {
			a.failWith(m.failure)
		}
	case *readFailed:
		if a.current(m.at) {
			a.failWith(fail(messages.FailClosed, "", fmt.Errorf("socket closed: %w", m.err)))
		}
	case *serverPacket:
		if a.current(m.at) {
			a.onPacket(ctx, &m.packet)
		}
	case *serverEvent:
		if a.current(m.at) {
			a.onEvent(ctx, m.ev)
		}
	case *handshakeTimedOut:
		if a.current(m.at) && !a.online {
			a.failWith(fail(messages.FailHandshakeTimeout, "", fmt.Errorf("not online after %s (phase %s)", a.cfg.HandshakeTimeout, a.phase)))
		}
	case *livenessCheck:
		if a.current(m.at) {
			a.checkLiveness()
		}
	case *sendConnect:
		if a.current(m.at) {
			a.write(frame.FrameConnect)
		}
	case *passwordGraceOver:
		if a.current(m.at) && a.needPass != "" {
			a.failWith(fail(messages.FailNeedPassword, a.needPass, errors.New("the server did not let the logged-in account in")))
		}
	}
}

func (a *connActor) current(at *attempt) bool { return at != nil && at == a.cur }

// begin starts an attempt, or waits first when the strategy says so (a
// cooldown persisted before a daemon restart).
func (a *connActor) begin(ctx actor.Context) {
	a.info = supervision.AttemptInfo{Number: 1}
	if a.cfg.Attempts != nil {
		a.info = a.cfg.Attempts.BeginAttempt()
	}
	now := a.cfg.Clock.Now()
	if a.info.NotBefore.After(now) {
		wait := a.info.WaitState
		if wait == "" {
			wait = messages.StateCoolingDown
		}
		a.log.Info("waiting before connecting", slog.Int("attempt", a.info.Number),
			slog.String("state", string(wait)), slog.Time("until", a.info.NotBefore))
		self := a.self
		a.gate = a.cfg.Clock.AfterFunc(a.info.NotBefore.Sub(now), func() { a.sys.Send(self, &beginAttempt{owner: a}) })
		a.publish(wait, a.info.NotBefore) // after the timer: see ConnectionStrategy.HandleFailure
		return
	}
	if g := a.cfg.ServerGate; g != nil && a.ticket == nil {
		owner, self := a, a.self
		t, granted := g.Acquire(a.cfg.ServerURL, func() { a.sys.Send(self, &slotReady{owner: owner}) })
		a.ticket = t
		if !granted {
			a.waitForSlot(g)
			return
		}
	}
	a.launch()
}

// waitForSlot shows why the channel is not connecting. The attempt keeps
// its number and no timer runs against it: waiting is not failing.
func (a *connActor) waitForSlot(g *servergate.Gate) {
	until := a.ticket.Until()
	u := g.Usage(a.cfg.ServerURL)
	reason := fmt.Sprintf("%d of %d connections to this server in use, %d channels waiting", u.Held, u.Max, u.Waiting)
	if !until.IsZero() {
		reason = "connects to this server are paced"
	}
	a.log.Info("waiting for a connection slot", slog.Int("attempt", a.info.Number), slog.String("server", a.cfg.ServerURL),
		slog.Int("held", u.Held), slog.Int("max", u.Max), slog.Int("waiting", u.Waiting), slog.Time("until", until))
	a.publishWith(messages.StateWaitingForSlot, until, reason)
}

// launch starts the attempt the strategy numbered, now that the server
// gate (if any) let it.
func (a *connActor) launch() {
	a.log.Info("connecting", slog.Int("attempt", a.info.Number), slog.String("server_url", a.cfg.ServerURL))
	at := startAttempt(a.info.Number, &a.cfg, a.sys, a.self, a.log)
	a.cur = at
	self := a.self
	a.handshake = a.cfg.Clock.AfterFunc(a.cfg.HandshakeTimeout, func() { a.sys.Send(self, &handshakeTimedOut{at: at}) })
	a.setPhase(messages.StateDiscovering)
}

func (a *connActor) onPacket(ctx actor.Context, p *frame.Packet) {
	switch p.Type {
	case frame.TypeOpen:
		if a.pingLimit > 0 {
			return // one handshake per socket
		}
		a.pingLimit = p.Open.PingIntervalDuration() + p.Open.PingTimeoutDuration()
		a.scheduleLiveness(a.pingLimit)
		a.connectNamespace()
	case frame.TypeConnect:
		if a.nsConnected {
			return
		}
		a.nsConnected = true
		join, err := frame.EncodeJoinChannel(a.cfg.Channel, a.cfg.ChannelPassword)
		if err != nil {
			a.failWith(fail(messages.FailConfig, "", fmt.Errorf("encode joinChannel: %w", err)))
		}
		a.setPhase(messages.StateJoining)
		a.writeBytes(join)
		if a.cfg.Username == "" {
			return
		}
		login, err := frame.EncodeLogin(a.cfg.Username, a.cfg.Password)
		if err != nil {
			a.failWith(fail(messages.FailConfig, "", fmt.Errorf("encode login: %w", err)))
		}
		a.setPhase(messages.StateLoggingIn)
		a.writeBytes(login)
	case frame.TypeConnectError:
		if strings.Contains(strings.ToLower(p.Message), "rate limit") {
			a.failWith(fail(messages.FailRateLimited, p.Message, nil))
		}
		a.failWith(fail(messages.FailProtocol, p.Message, errors.New("namespace connect refused (44)")))
	case frame.TypeDisconnect:
		a.failWith(fail(messages.FailClosed, "", errors.New("server disconnected the namespace (41)")))
	case frame.TypeClose:
		a.failWith(fail(messages.FailClosed, "", errors.New("server closed the engine.io session (1)")))
	}
}

// connectNamespace sends "40", when the server gate says the server would
// count it within its connect rate.
func (a *connActor) connectNamespace() {
	var d time.Duration
	if a.ticket != nil {
		d = a.ticket.ConnectDelay()
	}
	if d <= 0 {
		a.write(frame.FrameConnect)
		return
	}
	a.log.Debug("holding the namespace connect for the server's connect rate", slog.Duration("delay", d),
		slog.Int("attempt", a.info.Number))
	at, self := a.cur, a.self
	a.connectWait = a.cfg.Clock.AfterFunc(d, func() { a.sys.Send(self, &sendConnect{at: at}) })
}

func (a *connActor) onEvent(ctx actor.Context, ev *messages.Event) {
	switch b := ev.Body.(type) {
	case *messages.Login:
		a.onLogin(ctx, b)
	case *messages.Kick:
		kind := kickKind(b.Reason)
		// Debug only: the strategy's "connection attempt failed" line
		// carries the reason and the kind; one line per failed attempt.
		a.log.Debug("kicked by the server", slog.String("reason", b.Reason), slog.String("kind", string(kind)),
			slog.Int("attempt", a.info.Number))
		a.failWith(fail(kind, b.Reason, nil))
	case *messages.Rank:
		a.rank = b.Rank
		if a.online {
			a.setPhase(messages.StateOnline)
		}
	case *messages.NeedPassword:
		a.onNeedPassword(b)
	case *messages.CancelNeedPassword:
		a.onCancelNeedPassword(ctx)
	case *messages.ErrorMsg:
		a.log.Warn("server error message", slog.String("error", b.Msg), slog.Int("attempt", a.info.Number))
	case *messages.PartitionChange:
		a.failWith(fail(messages.FailPartitionChange, string(b.Config), errors.New("channel moved; rediscovering")))
	case *messages.UserList, *messages.ChannelNotRegistered:
		// An anonymous socket gets no reply to joinChannel; the end of the
		// join burst is the proof that it is in the channel.
		if a.cfg.Username == "" && a.nsConnected && !a.online {
			a.goOnline(ctx, "")
		}
	}
}

func (a *connActor) onLogin(ctx actor.Context, l *messages.Login) {
	if a.cfg.Username == "" || a.online {
		return
	}
	if l.Success {
		a.loggedIn, a.loginName = true, l.Name
		if a.needPass != "" {
			a.awaitCancel() // a moderator is let in now; anyone else is not
			return
		}
		a.goOnline(ctx, l.Name)
		return
	}
	if a.needPass != "" {
		// The login was the only way past the password; say what to set.
		a.log.Debug("login refused by the server", slog.String("username", a.cfg.Username),
			slog.String("error", l.Error), slog.Int("attempt", a.info.Number))
		a.failWith(fail(messages.FailNeedPassword, a.needPass, fmt.Errorf("login refused: %s", l.Error)))
	}
	kind := loginErrorKind(l.Error)
	a.log.Debug("login refused by the server", slog.String("username", a.cfg.Username),
		slog.String("error", l.Error), slog.String("kind", string(kind)), slog.Int("attempt", a.info.Number))
	a.failWith(fail(kind, l.Error, errors.New("login refused")))
}

// onNeedPassword: a channel password from the config is offered once with
// channelPassword (the server may ignore "pw" in joinChannel). Without one,
// or once it is refused, the account may still get in: CyTube lets a
// logged-in user of rank 2 or more pass and says so with
// cancelNeedPassword after the login. Only an attempt that cannot log in,
// or that logged in and was not let in within PasswordGrace, fails.
func (a *connActor) onNeedPassword(np *messages.NeedPassword) {
	if a.cfg.ChannelPassword != "" && !np.Wrong && !a.sentChanPass {
		a.sentChanPass = true
		f, err := frame.EncodeEvent("channelPassword", a.cfg.ChannelPassword)
		if err != nil {
			a.failWith(fail(messages.FailConfig, "", fmt.Errorf("encode channelPassword: %w", err)))
		}
		a.writeBytes(f)
		return
	}
	a.needPass = "channel needs a password; set cytube.channel_password"
	if a.cfg.ChannelPassword != "" {
		a.needPass = "channel password rejected; check cytube.channel_password"
	}
	if a.cfg.Username == "" || a.cfg.Password == "" {
		// Anonymous or a guest: no rank that could let us in.
		a.failWith(fail(messages.FailNeedPassword, a.needPass, nil))
	}
	if a.loggedIn {
		a.awaitCancel()
	}
	a.log.Info("channel wants a password; waiting to see whether the login lets us in",
		slog.Int("attempt", a.info.Number), slog.Bool("logged_in", a.loggedIn))
}

// awaitCancel gives the server PasswordGrace after the login to send
// cancelNeedPassword.
func (a *connActor) awaitCancel() {
	if a.passGrace != nil {
		return
	}
	at, self := a.cur, a.self
	a.passGrace = a.cfg.Clock.AfterFunc(a.cfg.PasswordGrace, func() { a.sys.Send(self, &passwordGraceOver{at: at}) })
}

// onCancelNeedPassword: the server let us in (the right channel password,
// or a login of rank 2 or more); the join burst follows.
func (a *connActor) onCancelNeedPassword(ctx actor.Context) {
	if a.needPass == "" && !a.sentChanPass {
		return
	}
	a.needPass = ""
	if a.passGrace != nil {
		a.passGrace.Stop()
		a.passGrace = nil
	}
	if a.loggedIn && !a.online {
		a.goOnline(ctx, a.loginName)
	}
}

func (a *connActor) goOnline(ctx actor.Context, name string) {
	a.online = true
	a.loginName = name
	if a.handshake != nil {
		a.handshake.Stop()
	}
	if a.cfg.Attempts != nil {
		a.cfg.Attempts.LoginConfirmed()
	}
	a.log.Info("online", slog.Int("attempt", a.info.Number), slog.String("username", name))
	a.setPhase(messages.StateOnline)
}

func (a *connActor) scheduleLiveness(d time.Duration) {
	at, self := a.cur, a.self
	a.liveness = a.cfg.Clock.AfterFunc(d, func() { a.sys.Send(self, &livenessCheck{at: at}) })
}

// checkLiveness declares the link dead when the server has not pinged for
// pingInterval+pingTimeout; otherwise it checks again when that would be.
func (a *connActor) checkLiveness() {
	last := time.Unix(0, a.cur.lastPing.Load())
	silent := a.cfg.Clock.Now().Sub(last)
	if silent >= a.pingLimit {
		a.failWith(fail(messages.FailDeadLink, "", fmt.Errorf("no ping from the server for %s (limit %s)", silent, a.pingLimit)))
	}
	a.scheduleLiveness(a.pingLimit - silent)
}

// send writes an outbound request, answering the sender when there is one.
func (a *connActor) send(ctx actor.Context, channel string, encode func() ([]byte, error)) {
	var err error
	switch {
	case channel != "" && channel != a.cfg.Channel:
		err = fmt.Errorf("send for channel %q reached the connection of %q", channel, a.cfg.Channel)
	case !a.online:
		err = messages.ErrNotOnline
	default:
		var f []byte
		if f, err = encode(); err == nil {
			err = a.cur.socket().write(f)
		}
	}
	if ctx.Sender() != nil {
		ctx.Respond(&messages.SendResult{Channel: a.cfg.Channel, Err: err})
	}
	if err != nil && a.online && !errors.Is(err, messages.ErrNotOnline) {
		a.log.Warn("send failed", slog.Any("error", err), slog.Int("attempt", a.info.Number))
	}
}

func (a *connActor) write(f string) { a.writeBytes([]byte(f)) }

// writeBytes writes a protocol frame; a socket that cannot be written is a
// dead attempt.
func (a *connActor) writeBytes(f []byte) {
	sock := a.cur.socket()
	if sock == nil {
		a.failWith(fail(messages.FailProtocol, "", errors.New("write before the socket was open")))
	}
	if err := sock.write(f); err != nil {
		a.failWith(fail(messages.FailClosed, "", fmt.Errorf("write: %w", err)))
	}
}

// failWith ends the attempt and fails the actor so that its supervisor
// decides what comes next. The socket is closed and the reader has finished
// before the panic, so nothing read is lost and nothing keeps running while
// the strategy waits.
func (a *connActor) failWith(f *messages.ConnectionFailure) {
	a.cleanup(false)
	// Not logged here: the supervisor strategy logs the one line of a
	// failed attempt, with the same attempt number and what it decided.
	panic(f)
}

// cleanup stops the timers and the attempt. polite says goodbye first
// (41, as socket.io-client does) when the namespace is connected.
func (a *connActor) cleanup(polite bool) {
	for _, t := range []clock.Timer{a.gate, a.handshake, a.liveness, a.passGrace, a.connectWait} {
		if t != nil {
			t.Stop()
		}
	}
	a.gate, a.handshake, a.liveness, a.passGrace, a.connectWait = nil, nil, nil, nil, nil
	if at := a.cur; at != nil {
		a.cur = nil
		if sock := at.socket(); polite && sock != nil && a.nsConnected {
			_ = sock.write([]byte(frame.FrameDisconnect))
		}
		at.shutdown()
	}
	// After the shutdown: the socket is closed, so the next channel's
	// connect never meets this one still counted by the server.
	if t := a.ticket; t != nil {
		a.ticket = nil
		t.Release()
	}
	a.online = false
}

func (a *connActor) setPhase(phase messages.ConnState) {
	a.phase = phase
	a.publish(phase, time.Time{})
}

// publish records the state on this actor's tree node (the debug endpoint)
// and publishes it once on the EventStream, where the channel, the outbound
// queue and the plugins hear it. The parent is not told separately: it
// subscribes like everyone else, and the retry count is reset by goOnline
// itself (AttemptSource.LoginConfirmed), not by whoever hears "online".
func (a *connActor) publish(phase messages.ConnState, until time.Time) {
	a.publishWith(phase, until, "")
}

func (a *connActor) publishWith(phase messages.ConnState, until time.Time, reason string) {
	st := messages.ConnectionState{
		Channel:   a.cfg.Channel,
		State:     phase,
		Attempt:   a.info.Number,
		Until:     until,
		Reason:    reason,
		LastError: a.info.LastError,
		At:        a.cfg.Clock.Now(),
	}
	if phase == messages.StateOnline {
		st.Username = a.loginName
		st.Rank = a.rank
		st.LastError = "" // history once online; /readyz must not show it
	}
	a.sys.Tree().SetState(a.self.Id, st)
	a.sys.Publish(&st)
}
