package outbound

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/daz-bot/daz/messages"
)

type kind int

const (
	kindChat kind = iota
	kindPM
	kindEvent
)

func (k kind) String() string {
	switch k {
	case kindChat:
		return "chat"
	case kindPM:
		return "pm"
	default:
		return "event"
	}
}

// where an item is in its life.
type phase int

const (
	phaseQueued   phase = iota
	phaseInFlight       // written; waiting for the echo, a cooldown or an error
	phaseWritten        // written; nothing will confirm it (events, chat commands)
	phaseDone
)

// item is one message to send. seq is its place in the queue; an item put
// back (dropped by the server, failed write, lost socket) keeps its seq and
// so goes back to where it was.
type item struct {
	seq      uint64
	kind     kind
	to       string
	msg      string
	meta     json.RawMessage
	event    *messages.SendEvent
	phase    phase
	waited   bool // counted once as a throttle wait
	failures int  // failed writes
	sentAt   time.Time
}

// confirmed tells whether the server answers this item in order with an
// echo, a cooldown, a noflood or an errorMsg. Chat commands such as /kick or
// /afk produce none of those when accepted; /me echoes like plain chat.
func (it *item) confirmed() bool {
	switch it.kind {
	case kindPM:
		return true
	case kindChat:
		return !strings.HasPrefix(it.msg, "/") || strings.HasPrefix(it.msg, "/me ") || strings.HasPrefix(it.msg, "/sp ")
	default:
		return false
	}
}

func (it *item) request(channel string) any {
	switch it.kind {
	case kindChat:
		return &messages.SendChat{Channel: channel, Msg: it.msg, Meta: it.meta}
	case kindPM:
		return &messages.SendPM{Channel: channel, To: it.to, Msg: it.msg, Meta: it.meta}
	default:
		return it.event
	}
}

// queue is kept in seq order.
type queue []*item

func (q *queue) push(it *item) { *q = append(*q, it) }

// putBack reinserts an item at its original place.
func (q *queue) putBack(it *item) {
	it.phase = phaseQueued
	i := sort.Search(len(*q), func(i int) bool { return (*q)[i].seq > it.seq })
	*q = append(*q, nil)
	copy((*q)[i+1:], (*q)[i:])
	(*q)[i] = it
}

func (q *queue) removeAt(i int) *item {
	it := (*q)[i]
	*q = append((*q)[:i], (*q)[i+1:]...)
	return it
}
