package plugins_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/eventfilter"
	"github.com/daz-bot/daz/actors/outbound"
	"github.com/daz-bot/daz/actors/plugins/logger"
	"github.com/daz-bot/daz/actors/plugins/ping"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

const benchChannel = "benchchan"

// pingsPerOp makes one benchmark op a batch of round trips, so even
// -benchtime 1x (make bench) yields percentiles worth reading.
const pingsPerOp = 100

// pingGap spaces the pings so they sample the flood rather than queue
// behind each other.
const pingGap = 2 * time.Millisecond

// wire stands in for the connection: it answers every send, echoes our
// chat back to the outbound queue as the server does, and signals each pong.
type wire struct {
	sys      *actorkit.System
	outbound atomic.Pointer[actor.PID]
	pong     chan time.Time
}

func (w *wire) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*messages.SendChat); ok {
		at := time.Now()
		ctx.Respond(&messages.SendResult{Channel: benchChannel})
		if ob := w.outbound.Load(); ob != nil {
			// Our echo, stamped as the connection's reader stamps it.
			w.sys.Send(ob, &messages.Event{Channel: benchChannel, Name: "chatMsg", Own: true,
				Body: &messages.ChatMsg{Username: "dazbot", Text: m.Msg, Time: at.UnixMilli()}})
		}
		if m.Msg == "pong" {
			w.pong <- at
		}
	}
}

type pipeline struct {
	sys            *actorkit.System
	filter, outbox *actor.PID
	wire           *wire
	mu             sync.Mutex // the flood and the pings share one socket: Seq must grow in send order
	seq            uint64
	join           *connection.JoinTracker
}

func (p *pipeline) event(name string, body any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	ev := &messages.Event{Channel: benchChannel, Name: name, Seq: p.seq, Received: time.Now(), Body: body}
	// The connection stamps every event and hands it to both sinks.
	p.join.Stamp(ev)
	p.sys.Send(p.filter, ev)
	p.sys.Send(p.outbox, ev)
}

// newPipeline is the channel subtree without the socket and the database:
// EventFilter, ping and logger plugins, outbound queue (pacing lifted so
// only our own latency is measured), and the wire.
func newPipeline(b *testing.B) *pipeline {
	b.Helper()
	sys := actorkit.NewSystem(nil, nil)
	p := &pipeline{sys: sys, wire: &wire{sys: sys, pong: make(chan time.Time, 16)}, join: connection.NewJoinTracker("dazbot", 0)}
	spawn := func(props *actor.Props, name string) *actor.PID {
		pid, err := sys.Root().SpawnNamed(props, name)
		if err != nil {
			b.Fatal(err)
		}
		return pid
	}
	conn := spawn(sys.Props("wire", func() actor.Actor { return p.wire }), "connection")
	ob, err := outbound.Props(sys, outbound.Config{Channel: benchChannel, Connection: conn,
		Limits: outbound.Limits{Burst: 1 << 30, Sustained: 1e9}})
	if err != nil {
		b.Fatal(err)
	}
	p.outbox = spawn(ob, "outbound")
	p.wire.outbound.Store(p.outbox)
	ef, err := eventfilter.Props(sys, eventfilter.Config{Channel: benchChannel, Outbound: p.outbox,
		UserRateLimit: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	p.filter = spawn(ef, "eventfilter")
	deps := pluginkit.Deps{System: sys, Channel: benchChannel, EventFilter: p.filter, Outbound: p.outbox, LogDir: b.TempDir()}
	spawn(pluginkit.HostProps(sys, []pluginkit.Spec{
		{Name: ping.Name, Props: ping.Props(deps)},
		{Name: logger.Name, Props: logger.Props(deps)},
	}, nil, p.filter), "plugins")
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for _, id := range []string{"plugins", "eventfilter", "outbound", "connection"} {
			_ = sys.Shutdown(ctx, id)
		}
	})
	actortest.CheckFor(b, 5*time.Second, "outbound subscribed", func() bool { _, ok := sys.Tree().State("outbound"); return ok })
	sys.Publish(&messages.ConnectionState{Channel: benchChannel, State: messages.StateOnline, Username: "dazbot", Rank: 2})
	actortest.CheckFor(b, 5*time.Second, "ping registered", func() bool {
		res, err := sys.Root().RequestFuture(p.filter, &messages.ListCommands{}, time.Second).Result()
		if err != nil {
			return false
		}
		for _, c := range res.(*messages.CommandList).Commands {
			if c.Name == "ping" {
				return true
			}
		}
		return false
	})
	p.event("userlist", &messages.UserList{Users: []messages.User{{Name: "dazbot", Rank: 2}}})
	return p
}

// flood sends rate chat lines per second until stop is closed, counting
// them in sent.
func (p *pipeline) flood(rate int, stop <-chan struct{}, sent *atomic.Int64) {
	const tick = 5 * time.Millisecond
	perTick := rate * int(tick) / int(time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	n := 0
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			for range perTick {
				n++
				sent.Add(1)
				p.event("chatMsg", &messages.ChatMsg{Username: fmt.Sprintf("viewer%03d", n%600),
					Text: "just chatting along, nothing to see", Time: time.Now().UnixMilli()})
			}
		}
	}
}

// BenchmarkPingRoundTrip measures a !ping event entering the EventFilter
// until "pong" leaves the outbound queue for the socket, idle and while 2 000
// other events per second flow through the same actors.
func BenchmarkPingRoundTrip(b *testing.B) {
	for _, load := range []struct {
		name string
		rate int
	}{{"idle", 0}, {"flood_2000_per_s", 2000}} {
		b.Run(load.name, func(b *testing.B) {
			p := newPipeline(b)
			stop := make(chan struct{})
			var flooded atomic.Int64
			if load.rate > 0 {
				go p.flood(load.rate, stop, &flooded)
				time.Sleep(500 * time.Millisecond) // the flood is in full swing before measuring
			}
			defer close(stop)
			floodStart, floodBase := time.Now(), flooded.Load()
			var lat []time.Duration
			i := 0
			for b.Loop() {
				for range pingsPerOp {
					i++
					began := time.Now()
					// A different user each time: !ping has a per-user cooldown.
					p.event("chatMsg", &messages.ChatMsg{Username: fmt.Sprintf("pinger%d", i), Text: "!ping", Time: began.UnixMilli()})
					select {
					case at := <-p.wire.pong:
						lat = append(lat, at.Sub(began))
					case <-time.After(5 * time.Second):
						b.Fatal("no pong within 5 s")
					}
					time.Sleep(pingGap)
				}
			}
			if load.rate > 0 {
				b.ReportMetric(float64(flooded.Load()-floodBase)/time.Since(floodStart).Seconds(), "flood_events/s")
			}
			slices.Sort(lat)
			pct := func(q float64) float64 {
				return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Nanoseconds()) / 1e6
			}
			b.ReportMetric(pct(0.50), "p50_ms")
			b.ReportMetric(pct(0.99), "p99_ms")
		})
	}
}
