package outbound

import (
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/messages"
)

const (
	testChannel = "testchan"
	testBot     = "dazbot"
)

// stamper stamps events as the connection's reader does before the
// outbound queue sees them; the test and the fake server both send events.
type stamper struct {
	mu   sync.Mutex
	join *connection.JoinTracker
}

func newStamper() *stamper { return &stamper{join: connection.NewJoinTracker(testBot, 0)} }

func (s *stamper) stamp(ev *messages.Event) *messages.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.join.Stamp(ev)
	return ev
}

// delivered is one message the fake server broadcast.
type delivered struct {
	pm  bool
	to  string
	msg string
	at  time.Time
}

// fakeServer plays the connection plus the CyTube server behind it: it
// answers each send with a SendResult, runs CyTube's limiter on chat and
// PMs, and sends the outbound queue the events the server would (echo,
// cooldown, noflood, errorMsg).
type fakeServer struct {
	sys      *actorkit.System
	clk      clock.Clock
	outbound *actor.PID
	wire     *stamper

	mu         sync.Mutex
	limiter    cytubeThrottle
	rank       float64
	antiflood  *Limits
	muted      bool
	offline    bool
	offlineErr error           // what a send answers while offline
	absent     map[string]bool // PM targets not in the channel
	got        []delivered
	cooldowns  int
	noflood    int
	writes     int
	events     uint64 // events sent to the outbound queue
}

type setOutbound struct{ pid *actor.PID }

func (s *fakeServer) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case setOutbound:
		s.outbound = m.pid
	case *messages.SendChat:
		ctx.Respond(s.handle(false, "", m.Msg))
	case *messages.SendPM:
		ctx.Respond(s.handle(true, m.To, m.Msg))
	case *messages.SendEvent:
		ctx.Respond(&messages.SendResult{Channel: testChannel})
	}
}

func (s *fakeServer) handle(pm bool, to, msg string) *messages.SendResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.offline {
		return &messages.SendResult{Channel: testChannel, Err: s.offlineErr}
	}
	now := s.clk.Now()
	limits := ModeratorLimits
	if !pm && s.antiflood != nil && s.rank < 2 {
		limits = *s.antiflood
	}
	switch {
	case pm && s.absent[to]:
		s.event("errorMsg", &messages.ErrorMsg{Msg: "PM failed: " + to + " isn't connected to this channel."})
	case s.limiter.throttle(now, limits):
		s.cooldowns++
		s.event("cooldown", &messages.Cooldown{Millis: int64(1000 / limits.Sustained)})
	case pm:
		s.got = append(s.got, delivered{pm: true, to: to, msg: msg, at: now})
		s.event("pm", &messages.Pm{Username: testBot, To: to, Msg: msg, Text: msg, Time: now.UnixMilli()})
	case s.muted:
		s.noflood++
		s.event("noflood", &messages.NoFlood{Action: "chat", Msg: "You have been muted on this channel."})
	default:
		s.got = append(s.got, delivered{msg: msg, at: now})
		s.event("chatMsg", &messages.ChatMsg{Username: testBot, Msg: msg, Text: msg, Time: now.UnixMilli()})
	}
	return &messages.SendResult{Channel: testChannel}
}

func (s *fakeServer) event(name string, body any) {
	s.events++
	s.sys.Send(s.outbound, s.wire.stamp(&messages.Event{Channel: testChannel, Name: name, Received: s.clk.Now(), Body: body}))
}

func (s *fakeServer) delivered() []delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivered(nil), s.got...)
}

func (s *fakeServer) counts() (cooldowns, noflood, writes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cooldowns, s.noflood, s.writes
}
