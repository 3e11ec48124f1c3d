package pluginkit

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/messages"
)

// Connection is the channel connection as a plugin last saw it.
type Connection struct {
	Known       bool // a ConnectionState arrived since this plugin started
	State       messages.ConnectionState
	OnlineSince time.Time // zero unless online
}

// watchConnection makes the Kit track the channel's ConnectionState
// (Registration.WatchConnection); Handle then consumes those messages and
// Connection reports the latest. It starts from the state already on the tree (Deps.StateNodes),
// read after subscribing so that nothing published in between is missed; a
// state read there and delivered again changes nothing.
func (k *Kit) watchConnection(ctx actor.Context) {
	if k.Deps.System == nil {
		return
	}
	channel := k.Deps.Channel
	k.Deps.System.Subscribe(ctx, func(msg any) bool {
		s, ok := msg.(*messages.ConnectionState)
		return ok && s.Channel == channel
	})
	k.watching = true
	for _, id := range k.Deps.StateNodes {
		v, _ := k.Deps.System.Tree().State(id)
		if s, ok := v.(messages.ConnectionState); ok && s.Channel == channel {
			k.observeConnection(&s)
			return
		}
	}
}

// Connection returns what the Kit knows of the channel connection.
func (k *Kit) Connection() Connection {
	if k.conn == nil {
		return Connection{}
	}
	return *k.conn
}

func (k *Kit) observeConnection(s *messages.ConnectionState) {
	if k.conn == nil {
		// Most plugins never watch; the state is ~180 bytes.
		k.conn = &Connection{}
	}
	wasOnline := k.conn.Known && k.conn.State.State == messages.StateOnline
	k.conn.Known = true
	k.conn.State = *s
	switch {
	case s.State != messages.StateOnline:
		k.conn.OnlineSince = time.Time{}
	case !wasOnline:
		k.conn.OnlineSince = s.At
		if k.conn.OnlineSince.IsZero() {
			k.conn.OnlineSince = k.Deps.Clock.Now()
		}
	}
}
