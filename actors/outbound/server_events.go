package outbound

import (
	"log/slog"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/messages"
)

func (o *outbound) onConnectionState(ctx actor.Context, s *messages.ConnectionState) {
	o.heard = true
	online := s.State == messages.StateOnline
	if online && s.Rank != 0 {
		o.rank = s.Rank
	}
	if online == o.online {
		o.pump(ctx)
		return
	}
	o.online = online
	if !online {
		o.lostSocket()
		o.log.Info("connection not online; holding outgoing messages",
			slog.String("state", string(s.State)), slog.Int("queue_depth", len(o.queue)))
		o.publishState(ctx)
		return
	}
	// A new socket is a new user on the server with a fresh flood limiter
	// and no mute until the server says so again.
	o.lim = mirror{}
	o.pausedUntil = time.Time{}
	o.muted = false
	o.pump(ctx)
}

// lostSocket puts back everything the server has not confirmed: it may or
// may not have been delivered, and a repeat beats a loss.
func (o *outbound) lostSocket() {
	for _, it := range o.inflight {
		o.queue.putBack(it)
		o.stats.Resent++
	}
	o.inflight = nil
}

func (o *outbound) onEvent(ctx actor.Context, ev *messages.Event) {
	o.stats.Events++
	defer o.publishState(ctx)
	if ev.Channel != o.cfg.Channel {
		return
	}
	o.inferOnline(ctx, ev)
	switch b := ev.Body.(type) {
	case *messages.Cooldown:
		o.onCooldown(ctx, time.Duration(b.Millis)*time.Millisecond)
	case *messages.NoFlood:
		o.onNoFlood(ctx, b)
	case *messages.SetUserMeta:
		if ev.Own && b.Meta.Muted != o.muted {
			o.muted = b.Meta.Muted
			o.log.Warn("mute changed", slog.Bool("muted", o.muted))
			o.pump(ctx)
		}
	case *messages.ChatMsg:
		// Our lines replayed in the join burst are history, not echoes.
		if ev.Own && !ev.Burst {
			o.confirm(kindChat)
		}
	case *messages.Pm:
		if ev.Own {
			o.confirm(kindPM)
		}
	case *messages.ErrorMsg:
		if strings.HasPrefix(b.Msg, "PM failed") || strings.HasPrefix(b.Msg, "You can't PM") {
			if it := o.confirm(kindPM); it != nil {
				o.stats.Failed++
				o.log.Warn("server refused a PM", slog.String("to", it.to), slog.String("error", b.Msg))
			}
		}
	case *messages.Rank:
		o.rank = b.Rank
		o.pump(ctx)
	case *messages.ChannelOpts:
		o.antiflood = b.ChatAntiflood
		p := b.ChatAntifloodParams
		o.flood = Limits{Burst: p.Burst, Sustained: p.Sustained, Cooldown: time.Duration(p.Cooldown * float64(time.Second))}
		o.pump(ctx)
	}
}

// inferOnline: until the connection has told this incarnation its state,
// a socket whose join burst is over (the event is not stamped Burst: its
// userlist arrived) counts as online. Should the connection not be online
// after all, it refuses the write with ErrNotOnline and its next state
// change reaches us, since we are subscribed by then.
func (o *outbound) inferOnline(ctx actor.Context, ev *messages.Event) {
	if o.heard || o.online || ev.Seq == 0 || ev.Burst {
		return
	}
	o.online = true
	o.log.Info("no connection state heard yet; the socket is in the channel, so sending",
		slog.Uint64("seq", ev.Seq), slog.Int("queue_depth", len(o.queue)))
	o.pump(ctx)
}

// confirm resolves the oldest unanswered message of kind k. The server
// answers our messages in the order it got them; a PM echo may overtake an
// older chat line only if that line is still to be answered by a cooldown,
// so the oldest of the right kind is the one being confirmed.
func (o *outbound) confirm(k kind) *item {
	for i, it := range o.inflight {
		if it.kind == k {
			it.phase = phaseDone
			o.inflight = append(o.inflight[:i], o.inflight[i+1:]...)
			return it
		}
	}
	return nil
}

// onCooldown: the server dropped the oldest unanswered message because we
// sent too fast. Send it again once the server's pause is over.
func (o *outbound) onCooldown(ctx actor.Context, d time.Duration) {
	o.stats.Cooldowns++
	now := o.cfg.Clock.Now()
	l := o.cfg.Limits
	if len(o.inflight) > 0 {
		it := o.inflight[0]
		o.inflight = o.inflight[1:]
		l, _ = o.limitsFor(it)
		o.queue.putBack(it)
		o.stats.Resent++
	} else {
		o.log.Warn("cooldown without a message waiting for an answer; pausing anyway", slog.String("pause", d.String()))
	}
	// The server's burst is spent; it accepts the next message one interval
	// after its last accepted one, which is at the latest now.
	o.lim.exhausted(now, l)
	if until := now.Add(d + o.cfg.Margin); until.After(o.pausedUntil) {
		o.pausedUntil = until
	}
	o.pump(ctx)
}

// onNoFlood: the server did not broadcast our chat (we are muted). Keep the
// line and hold chat until we are unmuted.
func (o *outbound) onNoFlood(ctx actor.Context, b *messages.NoFlood) {
	if !o.muted {
		o.log.Warn("server refused our chat; holding chat until we are unmuted",
			slog.String("action", b.Action), slog.String("reason", b.Msg))
	}
	o.muted = true
	for i, it := range o.inflight {
		if it.kind == kindChat {
			o.inflight = append(o.inflight[:i], o.inflight[i+1:]...)
			o.queue.putBack(it)
			o.stats.Resent++
			break
		}
	}
	o.pump(ctx)
}
