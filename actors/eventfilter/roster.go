package eventfilter

import (
	"strings"
	"time"

	"github.com/daz-bot/daz/messages"
)

// roster is what the EventFilter knows about the people in the channel and
// about the current socket. It is created once per Props and handed to each
// incarnation, so a restarted EventFilter still knows every rank (the
// server only sends the full userlist on join).
type roster struct {
	ranks   map[string]float64 // lower-case name -> channel rank
	botName string
	botRank float64

	// Socket tracking for the join backlog. Event.Seq restarts at 1 on every
	// socket, so a Seq that does not grow means a new socket.
	lastSeq   uint64
	joinedAt  time.Time // our clock, first event of the socket
	burstDone bool      // the burst's userlist arrived on this socket
}

func newRoster(botName string) *roster {
	// burstDone starts true: the first event of a socket (Seq 1) clears it,
	// and events that do not come from a socket (Seq 0) are live.
	return &roster{ranks: map[string]float64{}, botName: botName, botRank: -1, burstDone: true}
}

// observe updates the roster from one event.
func (r *roster) observe(ev *messages.Event) {
	r.trackSocket(ev)
	switch b := ev.Body.(type) {
	case *messages.UserList:
		r.ranks = make(map[string]float64, len(b.Users))
		for _, u := range b.Users {
			r.ranks[strings.ToLower(u.Name)] = u.Rank
		}
		r.burstDone = true
	case *messages.AddUser:
		r.ranks[strings.ToLower(b.Name)] = b.Rank
	case *messages.SetUserRank:
		r.ranks[strings.ToLower(b.Name)] = b.Rank
	case *messages.UserLeave:
		delete(r.ranks, strings.ToLower(b.Name))
	case *messages.Login:
		if b.Success && b.Name != "" {
			r.botName = b.Name
		}
	case *messages.Rank:
		r.botRank = b.Rank
	}
}

func (r *roster) trackSocket(ev *messages.Event) {
	switch {
	case ev.Seq == 0:
		// Not from a connection (a test or tool): keep the socket as is.
	case r.lastSeq == 0 && ev.Seq > 1:
		// First event this roster sees is mid-socket: our own restart, or
		// a late start. The burst, if any, is long over.
		r.joinedAt = time.Time{}
		r.burstDone = true
	case ev.Seq <= r.lastSeq || ev.Seq == 1:
		r.joinedAt = ev.Received
		r.burstDone = false
	}
	if ev.Seq != 0 {
		r.lastSeq = ev.Seq
	}
}

// isBacklog tells whether a chat line is part of the join burst's replay:
// either it came before the burst's userlist on this socket (the server
// replays history before the userlist), or its server time is older than
// our join by more than the clock skew we tolerate.
func (r *roster) isBacklog(serverTime time.Time, skew time.Duration) bool {
	if !r.burstDone {
		return true
	}
	if r.joinedAt.IsZero() || serverTime.IsZero() {
		return false
	}
	return serverTime.Before(r.joinedAt.Add(-skew))
}

// rankOf is a user's channel rank; someone we have not seen is a guest (0).
func (r *roster) rankOf(name string) float64 {
	if rank, ok := r.ranks[strings.ToLower(name)]; ok {
		return rank
	}
	return 0
}

func (r *roster) isBot(name string) bool {
	return r.botName != "" && strings.EqualFold(name, r.botName)
}
