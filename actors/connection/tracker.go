package connection

import (
	"strings"
	"time"

	"github.com/daz-bot/daz/messages"
)

// DefaultSkewTolerance is Config.SkewTolerance unless configured.
const DefaultSkewTolerance = 5 * time.Second

// JoinTracker is the one place that works out what a sink needs to know
// about an event beyond its payload: whether it belongs to the join burst,
// whether a chat line is replayed history, and whether it is our own. The
// reader stamps every event with it (messages.Event Burst, Backlog, Own)
// before any sink sees it, in receive order, so the SQL writer, the
// EventFilter, the outbound queue and the plugins never track sockets or
// the login name themselves, and a sink that restarts mid-socket loses
// nothing. Test harnesses that stand in for the connection stamp their
// events with it too.
//
// Not safe for concurrent use: one goroutine (the socket's reader) owns it.
type JoinTracker struct {
	login string
	skew  time.Duration

	// Event.Seq restarts at 1 on every socket, so a Seq that does not grow
	// means a new socket.
	lastSeq   uint64
	joinedAt  time.Time // our clock, first event of the socket
	burstDone bool      // the burst's userlist arrived on this socket
}

// NewJoinTracker starts a tracker for the account login ("" when
// anonymous); the name in a successful login reply replaces it. skew is how
// far the server clock may lag ours (DefaultSkewTolerance when zero).
func NewJoinTracker(login string, skew time.Duration) *JoinTracker {
	if skew <= 0 {
		skew = DefaultSkewTolerance
	}
	// burstDone starts true: the first event of a socket (Seq 1) clears it,
	// and events that do not come from a socket (Seq 0) are live.
	return &JoinTracker{login: login, skew: skew, burstDone: true}
}

// Stamp sets ev's Burst, Backlog and Own. Call it once per event, in
// receive order, before the event is handed to anyone.
func (t *JoinTracker) Stamp(ev *messages.Event) {
	t.trackSocket(ev)
	switch b := ev.Body.(type) {
	case *messages.UserList:
		t.burstDone = true
	case *messages.Login:
		if b.Success && b.Name != "" {
			t.login = b.Name
		}
	case *messages.ChatMsg:
		ev.Own = t.isLogin(b.Username)
		st, _ := ev.ServerTime()
		ev.Backlog = t.isBacklog(st)
	case *messages.Pm:
		ev.Own = t.isLogin(b.Username)
	case *messages.SetUserMeta:
		ev.Own = t.isLogin(b.Name)
	}
	ev.Burst = !t.burstDone
}

func (t *JoinTracker) trackSocket(ev *messages.Event) {
	switch {
	case ev.Seq == 0:
		// Not from a connection (a test or tool): keep the socket as is.
	case t.lastSeq == 0 && ev.Seq > 1:
		// The first event seen is mid-socket (a harness joining late): the
		// burst, if any, is long over.
		t.joinedAt = time.Time{}
		t.burstDone = true
	case ev.Seq <= t.lastSeq || ev.Seq == 1:
		t.joinedAt = ev.Received
		t.burstDone = false
	}
	if ev.Seq != 0 {
		t.lastSeq = ev.Seq
	}
}

// isBacklog tells whether a chat line is part of the join burst's replay:
// either it came before the burst's userlist on this socket (the server
// replays history before the userlist), or its server time is older than
// our join by more than the clock skew we tolerate.
func (t *JoinTracker) isBacklog(serverTime time.Time) bool {
	if !t.burstDone {
		return true
	}
	if t.joinedAt.IsZero() || serverTime.IsZero() {
		return false
	}
	return serverTime.Before(t.joinedAt.Add(-t.skew))
}

func (t *JoinTracker) isLogin(name string) bool {
	return t.login != "" && strings.EqualFold(name, t.login)
}
