package eventfilter

import (
	"strings"

	"github.com/daz-bot/daz/messages"
)

// roster is the channel rank of everyone in the channel. It is created once
// per Props and handed to each incarnation, so a restarted EventFilter still
// knows every rank (the server only sends the full userlist on join). Our
// own name, the join burst and the backlog are not tracked here: the
// connection stamps each event with them (Event.Own, Event.Backlog).
type roster struct {
	ranks map[string]float64 // lower-case name -> channel rank
}

func newRoster() *roster {
	return &roster{ranks: map[string]float64{}}
}

// observe updates the roster from one event.
func (r *roster) observe(ev *messages.Event) {
	switch b := ev.Body.(type) {
	case *messages.UserList:
		r.ranks = make(map[string]float64, len(b.Users))
		for _, u := range b.Users {
			r.ranks[strings.ToLower(u.Name)] = u.Rank
		}
	case *messages.AddUser:
		r.ranks[strings.ToLower(b.Name)] = b.Rank
	case *messages.SetUserRank:
		r.ranks[strings.ToLower(b.Name)] = b.Rank
	case *messages.UserLeave:
		delete(r.ranks, strings.ToLower(b.Name))
	}
}

// rankOf is a user's channel rank; someone we have not seen is a guest (0).
func (r *roster) rankOf(name string) float64 {
	if rank, ok := r.ranks[strings.ToLower(name)]; ok {
		return rank
	}
	return 0
}
