package connection

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/messages"
)

// attempt is one connection attempt: discovery, the websocket and its reader
// all run on one goroutine the actor owns. The pointer doubles as the token
// on every message the goroutine reports, so reports from an attempt the
// actor has abandoned (or from before a restart) are recognised and dropped.
type attempt struct {
	number int
	cfg    *Config
	sys    *actorkit.System
	owner  *actor.PID
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// join stamps every event of this socket before the sinks get it.
	join *JoinTracker

	// lastPing is the clock time (unix ns) of the open packet or the last
	// server ping; the reader writes it, the actor's liveness check reads it.
	lastPing atomic.Int64

	mu     sync.Mutex
	sock   *socket
	closed bool
}

func startAttempt(number int, cfg *Config, sys *actorkit.System, owner *actor.PID, log *slog.Logger) *attempt {
	ctx, cancel := context.WithCancel(context.Background())
	at := &attempt{
		number: number, cfg: cfg, sys: sys, owner: owner, log: log,
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		join: NewJoinTracker(cfg.Username, cfg.SkewTolerance),
	}
	go at.run()
	return at
}

// socket returns the websocket once dialed, nil before.
func (at *attempt) socket() *socket {
	at.mu.Lock()
	defer at.mu.Unlock()
	return at.sock
}

// shutdown ends the attempt and waits for its goroutine, so every frame it
// read has been handed to the sinks when shutdown returns.
func (at *attempt) shutdown() {
	at.cancel()
	at.mu.Lock()
	at.closed = true
	sock := at.sock
	at.mu.Unlock()
	if sock != nil {
		sock.close()
	}
	<-at.done
}

// adopt stores the dialed socket unless shutdown already ran.
func (at *attempt) adopt(sock *socket) bool {
	at.mu.Lock()
	defer at.mu.Unlock()
	if at.closed {
		return false
	}
	at.sock = sock
	return true
}

func (at *attempt) report(msg any) { at.sys.Send(at.owner, msg) }

func (at *attempt) run() {
	defer close(at.done)
	wsURL, f := discover(at.ctx, at.cfg.HTTPClient, at.cfg.ServerURL, at.cfg.Channel)
	if f != nil {
		at.report(&attemptFailed{at: at, failure: f})
		return
	}
	at.report(&discovered{at: at, wsURL: wsURL})
	conn, resp, err := at.cfg.Dialer.DialContext(at.ctx, wsURL, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("websocket %s: HTTP %d: %w", wsURL, resp.StatusCode, err)
		} else {
			err = fmt.Errorf("websocket %s: %w", wsURL, err)
		}
		at.report(&attemptFailed{at: at, failure: fail(messages.FailDial, "", err)})
		return
	}
	sock := newSocket(conn, at.cfg.WriteTimeout)
	if !at.adopt(sock) {
		sock.close()
		return
	}
	at.read(sock)
}

// actorEvents are the server events the state machine acts on; every event
// goes to the sinks regardless.
var actorEvents = map[string]bool{
	"login": true, "kick": true, "rank": true, "needPassword": true, "cancelNeedPassword": true,
	"errorMsg": true, "partitionChange": true, "userlist": true, "channelNotRegistered": true,
}

// read is the reader loop. It hands every event to the sinks itself, so
// logging never waits for the actor, and answers pings without the actor.
func (at *attempt) read(sock *socket) {
	var seq uint64
	counters := at.cfg.Counters
	for {
		_, data, err := sock.conn.ReadMessage()
		if err != nil {
			at.report(&readFailed{at: at, err: err})
			return
		}
		if counters != nil {
			counters.Frames.Add(1)
		}
		p, err := frame.Parse(data)
		if err != nil {
			if counters != nil {
				counters.Malformed.Add(1)
			}
			at.log.Warn("unreadable frame from server", slog.Int("attempt", at.number),
				slog.String("frame", clip(data)), slog.Any("error", err))
			continue
		}
		switch p.Type {
		case frame.TypePing:
			at.lastPing.Store(at.cfg.Clock.Now().UnixNano())
			pong, _ := frame.EncodePacket(frame.Packet{Type: frame.TypePong, Data: p.Data})
			if err := sock.write(pong); err != nil {
				// The read that follows fails the same way and reports it.
				at.log.Debug("pong not written", slog.Int("attempt", at.number), slog.Any("error", err))
			}
		case frame.TypeEvent:
			seq++
			at.deliver(&p, seq)
		case frame.TypeOpen:
			at.lastPing.Store(at.cfg.Clock.Now().UnixNano())
			at.report(&serverPacket{at: at, packet: p})
		case frame.TypeConnect, frame.TypeConnectError, frame.TypeDisconnect, frame.TypeClose:
			at.report(&serverPacket{at: at, packet: p})
		}
	}
}

func (at *attempt) deliver(p *frame.Packet, seq uint64) {
	ev, err := frame.EventFromPacket(at.cfg.Channel, seq, at.cfg.Clock.Now(), p)
	if c := at.cfg.Counters; c != nil {
		c.Events.Add(1)
		if _, raw := ev.Body.(*messages.RawEvent); raw && err == nil {
			c.UnknownEvents.Add(1)
		}
		if err != nil {
			c.DecodeErrors.Add(1)
		}
	}
	if err != nil {
		at.log.Warn("event payload did not decode; delivered raw", slog.String("event", ev.Name),
			slog.Int("attempt", at.number), slog.Any("error", err))
	}
	at.join.Stamp(ev)
	at.admit(ev)
	for _, sink := range at.cfg.Sinks {
		at.sys.Send(sink, ev)
	}
	if actorEvents[ev.Name] {
		at.report(&serverEvent{at: at, ev: ev})
	}
}

// admit waits, before an event goes to the sinks, until the writer has
// room for it. Meanwhile nothing reads the socket, so TCP flow control slows
// the server rather than the writer's mailbox growing. The wait is bounded:
// a writer that takes nothing is logged and read past, never waited for.
func (at *attempt) admit(ev *messages.Event) {
	in := at.cfg.Intake
	if in == nil {
		return
	}
	if err := in.Wait(at.ctx); err != nil && at.ctx.Err() == nil {
		at.log.Warn("the chat-log writer is not taking events; reading on", slog.Int("attempt", at.number),
			slog.String("event", ev.Name), slog.Any("error", err))
	}
	in.Sent(ev)
}

// clip shortens a frame for a log line.
func clip(b []byte) string {
	const limit = 200
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}
