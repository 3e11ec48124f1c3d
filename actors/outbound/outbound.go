package outbound

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/messages"
)

// Props returns the outbound queue of one channel.
func Props(sys *actorkit.System, cfg Config) (*actor.Props, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return sys.Props("outbound", func() actor.Actor {
		return &outbound{
			cfg:  cfg,
			sys:  sys,
			log:  cfg.Logger.With(slog.String("channel", cfg.Channel), slog.String("actor", "outbound")),
			rank: -1,
		}
	}), nil
}

// maxWriteFailures drops an item the connection refused this many times
// (a payload it cannot encode would otherwise block the queue forever).
const maxWriteFailures = 3

// writeRetryPause is how long sending pauses after a failed write.
const writeRetryPause = time.Second

type wake struct{}
type ackSweep struct{}

type outbound struct {
	cfg Config
	sys *actorkit.System
	log *slog.Logger

	queue    queue
	inflight []*item // oldest first; answered by the server in this order
	nextSeq  uint64

	online bool
	// heard is set once the connection told this incarnation its state (a
	// ConnectionState, or a write refused as not online). Until then the
	// online state is inferred from the events: a state published before we
	// subscribed (our own restart, or a start racing the connection's
	// online) is never published again.
	heard     bool
	muted     bool
	rank      float64 // ours: from the online state and the rank events
	antiflood bool
	flood     Limits

	lim         mirror
	pausedUntil time.Time
	timer       clock.Timer
	timerAt     time.Time
	ackTimer    clock.Timer

	stats Stats
}

// Stats are the outbound counters shown on the debug endpoint.
type Stats struct {
	Requests      uint64 `json:"requests"` // SendChat, SendPM and SendEvent received
	Events        uint64 `json:"events"`   // server events seen as a sink
	Queued        uint64 `json:"queued_total"`
	Sent          uint64 `json:"sent"`
	Split         uint64 `json:"split_parts"`
	ThrottleWaits uint64 `json:"throttle_waits"`
	Cooldowns     uint64 `json:"cooldowns"`
	Resent        uint64 `json:"resent"`
	WriteErrors   uint64 `json:"write_errors"`
	Failed        uint64 `json:"failed"`
	Dropped       uint64 `json:"dropped_overflow"`
}

// State is what the outbound queue shows on the debug endpoint.
type State struct {
	Online      bool      `json:"online"`
	Muted       bool      `json:"muted"`
	Rank        float64   `json:"rank"`
	Antiflood   bool      `json:"antiflood"`
	QueueDepth  int       `json:"queue_depth"`
	InFlight    int       `json:"in_flight"`
	PausedUntil time.Time `json:"paused_until,omitzero"`
	NextSend    time.Time `json:"next_send,omitzero"` // when the queue's head may go
	Stats
}

func (o *outbound) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		channel := o.cfg.Channel
		o.sys.Subscribe(ctx, func(msg any) bool {
			s, ok := msg.(*messages.ConnectionState)
			return ok && s.Channel == channel
		})
		o.publishState(ctx)
	case *actor.Stopping, *actor.Restarting:
		o.stopTimers()
	case *messages.SendChat:
		o.stats.Requests++
		o.enqueueText(ctx, kindChat, "", m.Msg, m.Meta)
	case *messages.SendPM:
		o.stats.Requests++
		o.enqueueText(ctx, kindPM, m.To, m.Msg, m.Meta)
	case *messages.SendEvent:
		o.stats.Requests++
		o.enqueue(&item{kind: kindEvent, event: m})
		o.pump(ctx)
	case *messages.ConnectionState:
		o.onConnectionState(ctx, m)
	case *messages.Event:
		o.onEvent(ctx, m)
	case wake:
		o.timer = nil
		o.pump(ctx)
	case ackSweep:
		o.ackTimer = nil
		o.sweep(ctx)
	}
}

func (o *outbound) enqueueText(ctx actor.Context, k kind, to, text string, meta []byte) {
	// Every chat line and PM passes here, refusals from the EventFilter as
	// much as plugin replies, so this is where links are kept clickable.
	parts := Split(KeepLinksClickable(text), o.cfg.MaxChars)
	if len(parts) == 0 {
		// The server drops whitespace-only lines without a word; so do we,
		// but loudly, since some plugin produced one.
		o.log.Warn("empty message not sent", slog.String("kind", k.String()))
		o.publishState(ctx)
		return
	}
	if len(parts) > 1 {
		o.stats.Split += uint64(len(parts))
	}
	for i, p := range parts {
		if i > 0 && k == kindChat && strings.HasPrefix(p, "/") {
			// A continuation must never turn into a chat command.
			p = " " + p
		}
		o.enqueue(&item{kind: k, to: to, msg: p, meta: meta})
	}
	o.pump(ctx)
}

func (o *outbound) enqueue(it *item) {
	o.nextSeq++
	it.seq = o.nextSeq
	o.stats.Queued++
	if len(o.queue) >= o.cfg.MaxQueue {
		old := o.queue.removeAt(0)
		o.stats.Dropped++
		o.log.Error("outbound queue full; dropping its oldest message",
			slog.Int("max_queue", o.cfg.MaxQueue), slog.String("kind", old.kind.String()))
	}
	o.queue.push(it)
}

// limitsFor is the server limiter setting that applies to it; events are
// not flood-limited.
func (o *outbound) limitsFor(it *item) (Limits, bool) {
	switch it.kind {
	case kindEvent:
		return Limits{}, false
	case kindChat:
		if o.antiflood && o.rank < 2 && o.flood.Burst >= 1 && o.flood.Sustained > 0 {
			return o.flood, true
		}
	}
	return o.cfg.Limits, true
}

// next is the index of the first item that may go now: everything but chat
// while we are muted (PMs and events still reach the server).
func (o *outbound) next() int {
	for i, it := range o.queue {
		if !o.muted || it.kind != kindChat {
			return i
		}
	}
	return -1
}

// pump sends what the server will accept now and schedules a wake-up for
// the rest.
func (o *outbound) pump(ctx actor.Context) {
	defer o.publishState(ctx)
	if !o.online {
		return
	}
	now := o.cfg.Clock.Now()
	for len(o.queue) > 0 {
		if now.Before(o.pausedUntil) {
			o.wakeAt(ctx, o.pausedUntil)
			return
		}
		i := o.next()
		if i < 0 {
			return
		}
		it := o.queue[i]
		if l, limited := o.limitsFor(it); limited {
			if w := o.lim.wait(now, l, o.cfg.Margin, o.cfg.ResetMargin); w > 0 {
				if !it.waited {
					it.waited = true
					o.stats.ThrottleWaits++
				}
				o.wakeAt(ctx, now.Add(w))
				return
			}
			o.lim.take(now, l, o.cfg.ResetMargin)
		}
		o.queue.removeAt(i)
		o.write(ctx, it, now)
	}
}

// write hands it to the connection; the connection answers with a
// SendResult once the frame is on the socket (or could not be).
func (o *outbound) write(ctx actor.Context, it *item, now time.Time) {
	o.stats.Sent++
	it.sentAt = now
	if it.confirmed() {
		it.phase = phaseInFlight
		o.inflight = append(o.inflight, it)
		o.armAckSweep(ctx)
	} else {
		it.phase = phaseWritten
	}
	o.sys.Request(ctx, o.cfg.Connection, it.request(o.cfg.Channel), o.cfg.WriteTimeout, func(res any, err error) {
		if err == nil {
			if r, ok := res.(*messages.SendResult); ok {
				err = r.Err
			}
		}
		if err != nil {
			o.writeFailed(ctx, it, err)
		}
	})
}

func (o *outbound) writeFailed(ctx actor.Context, it *item, err error) {
	o.stats.WriteErrors++
	switch it.phase {
	case phaseInFlight:
		o.dropInFlight(it)
	case phaseWritten:
	default:
		return // already put back (socket lost) or answered
	}
	if errors.Is(err, messages.ErrNotOnline) {
		// The socket went away before its state change reached us (or we
		// assumed online too early); the next "online" resumes sending.
		// Not the message's fault.
		o.queue.putBack(it)
		o.online = false
		o.heard = true
		o.publishState(ctx)
		return
	}
	it.failures++
	if it.failures >= maxWriteFailures {
		it.phase = phaseDone
		o.stats.Failed++
		o.log.Error("giving up on a message the connection could not write",
			slog.String("kind", it.kind.String()), slog.Int("attempt", it.failures), slog.Any("error", err))
		return
	}
	o.log.Warn("write failed; the message goes back to the queue",
		slog.String("kind", it.kind.String()), slog.Int("attempt", it.failures), slog.Any("error", err))
	o.queue.putBack(it)
	o.pausedUntil = o.cfg.Clock.Now().Add(writeRetryPause)
	o.pump(ctx)
}

func (o *outbound) dropInFlight(it *item) {
	for i, x := range o.inflight {
		if x == it {
			o.inflight = append(o.inflight[:i], o.inflight[i+1:]...)
			return
		}
	}
}

func (o *outbound) wakeAt(ctx actor.Context, at time.Time) {
	if o.timer != nil && !o.timerAt.After(at) {
		return
	}
	if o.timer != nil {
		o.timer.Stop()
	}
	o.timerAt = at
	o.timer = o.sys.SendAfter(at.Sub(o.cfg.Clock.Now()), ctx.Self(), wake{})
}

func (o *outbound) armAckSweep(ctx actor.Context) {
	if o.ackTimer != nil || len(o.inflight) == 0 {
		return
	}
	due := o.inflight[0].sentAt.Add(o.cfg.AckTimeout).Sub(o.cfg.Clock.Now())
	o.ackTimer = o.sys.SendAfter(max(due, time.Millisecond), ctx.Self(), ackSweep{})
}

// sweep counts messages nobody answered within AckTimeout as delivered.
func (o *outbound) sweep(ctx actor.Context) {
	now := o.cfg.Clock.Now()
	for len(o.inflight) > 0 && now.Sub(o.inflight[0].sentAt) >= o.cfg.AckTimeout {
		o.inflight[0].phase = phaseDone
		o.inflight = o.inflight[1:]
	}
	o.armAckSweep(ctx)
	o.publishState(ctx)
}

func (o *outbound) stopTimers() {
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
	if o.ackTimer != nil {
		o.ackTimer.Stop()
		o.ackTimer = nil
	}
}

func (o *outbound) publishState(ctx actor.Context) {
	st := State{
		Online: o.online, Muted: o.muted, Rank: o.rank, Antiflood: o.antiflood,
		QueueDepth: len(o.queue), InFlight: len(o.inflight), PausedUntil: o.pausedUntil, Stats: o.stats,
	}
	if o.timer != nil {
		st.NextSend = o.timerAt
	}
	o.sys.Tree().SetState(ctx.Self().Id, st)
}
