package ownership

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/messages"
)

// Config wires the ownership actor.
type Config struct {
	Node        string // this daemon's name (node.name)
	DatabaseURL string
	Timings     Timings
	// Channels is the actor that runs the channels this daemon owns; it
	// receives ChannelAcquired, ChannelReleased and Fenced, and answers
	// ChannelStopped.
	Channels *actor.PID
	// FreeSlots is how many more sockets this daemon may open to a CyTube
	// server (the per-server gate); nil: no limit.
	FreeSlots func(server string) int
	Counters  *Counters
	Clock     clock.Clock
	Logger    *slog.Logger
}

// Counters are the actor's totals for the metrics endpoint.
type Counters struct {
	Owned        atomic.Int64
	Acquisitions atomic.Int64
	Releases     atomic.Int64
	Fences       atomic.Int64
}

// Start tells the actor its siblings exist: the first round runs at once.
type Start struct{}

type tick struct{}

// Wake asks for a round now: another daemon announced a change on
// NotifyChannel.
type Wake struct{}

// The worker's results. epoch tells results of a session the actor has
// since fenced from the current one's.
type heartbeatDone struct {
	w      *worker
	epoch  int
	seq    int // the job's place in the worker's queue
	sentAt time.Time
	st     status
	err    error
}

type lockDone struct {
	w     *worker
	epoch int
	got   []int32
	err   error
}

type unlockDone struct {
	w   *worker
	err error
}

// persisted is the actor's state that survives its restarts.
type persisted struct {
	mu      sync.Mutex
	started bool
	desired []messages.DesiredChannel
	// The worker and its session (with every lock) outlive a restart, so
	// a restart neither drops a channel nor lets another daemon take one
	// this daemon still runs; the epoch moves on so answers meant for the
	// dead incarnation are dropped.
	w     *worker
	epoch int
}

type ownershipActor struct {
	sys  *actorkit.System
	cfg  Config
	keep *persisted

	w       *worker
	epoch   int
	seq     int  // jobs queued so far (the worker runs them in order)
	beating bool // a heartbeat is in flight
	// unlockSeq: key → seq of the job that releases it. A heartbeat queued
	// before that job still shows the lock as this daemon's; it must not
	// run the channel again.
	unlockSeq map[int32]int
	// fencing: channels told to stop by a fence and not yet stopped. No
	// new session is opened meanwhile: that would make this daemon live
	// again and lift the others' quarantine while a connection may still
	// be up. Capped at Quarantine, after which the others go ahead anyway.
	fencing  map[string]bool
	fencedAt time.Time
	timer    clock.Timer

	desired   []messages.DesiredChannel
	servers   map[string]string
	keys      map[string]int32 // channel → lock key, from the last status
	running   map[string]int32
	releasing map[string]int32

	lastConfirmed time.Time
	confirmedOnce bool
	freeSince     map[int32]time.Time
	quarantine    map[string]time.Time // node → local time its quarantine ends
	overSince     time.Time
	draining      bool
	started       bool

	status messages.ClusterStatus
}

// Props builds the ownership actor.
func Props(sys *actorkit.System, cfg Config) *actor.Props {
	if cfg.Clock == nil {
		cfg.Clock = sys.Clock()
	}
	if cfg.Logger == nil {
		cfg.Logger = sys.Logger()
	}
	if cfg.Timings.Tick <= 0 {
		cfg.Timings = TimingsFor(cfg.Timings.Failover)
	}
	if cfg.Counters == nil {
		cfg.Counters = &Counters{}
	}
	cfg.Logger = cfg.Logger.With(slog.String("node", cfg.Node))
	// What must outlive a restart of the actor: whether it was started and
	// the channels it was told to serve.
	keep := &persisted{}
	return sys.Props("ownership", func() actor.Actor {
		return &ownershipActor{sys: sys, cfg: cfg, keep: keep}
	})
}

func (o *ownershipActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		o.reset()
		o.keep.mu.Lock()
		if o.keep.w == nil {
			o.keep.w = startWorker(o.sys, ctx.Self(), o.cfg)
		}
		o.keep.epoch++
		o.w, o.epoch = o.keep.w, o.keep.epoch
		restarted, desired := o.keep.started, o.keep.desired
		o.keep.mu.Unlock()
		if restarted {
			// A restart: the siblings exist, carry on where the dead
			// incarnation was (it fenced everything before going).
			o.setDesired(ctx, desired)
			o.started = true
			o.round(ctx)
		}
		o.publish(ctx)
	case *actor.Restarting:
		if o.timer != nil {
			o.timer.Stop()
		}
	case *actor.Stopping:
		if o.timer != nil {
			o.timer.Stop()
		}
		// The channels stopped and the writer flushed before this (the
		// app's shutdown order): ending the session hands them over.
		o.stopWorker(true)
	case Start:
		o.started = true
		o.keep.mu.Lock()
		o.keep.started = true
		o.keep.mu.Unlock()
		o.round(ctx)
	case messages.ChannelsRestarted:
		o.channelsRestarted()
	case messages.DesiredChannels:
		o.setDesired(ctx, m.Channels)
	case *messages.DesiredChannels:
		o.setDesired(ctx, m.Channels)
	case messages.OwnershipDraining:
		o.draining = true
	case tick:
		o.timer = nil
		o.round(ctx)
	case Wake:
		if o.started {
			o.round(ctx)
		}
	case heartbeatDone:
		o.onHeartbeat(ctx, m)
	case lockDone:
		o.onLocked(ctx, m)
	case unlockDone:
		if m.w == o.w && m.err != nil {
			o.cfg.Logger.Warn("releasing a channel lock failed", slog.Any("error", m.err))
		}
	case messages.ChannelStopped:
		o.onStopped(m.Channel)
	case messages.ClusterStatusRequest:
		ctx.Respond(o.status)
	}
}

func (o *ownershipActor) reset() {
	o.servers = map[string]string{}
	o.keys = map[string]int32{}
	o.running = map[string]int32{}
	o.releasing = map[string]int32{}
	o.unlockSeq = map[int32]int{}
	o.fencing = map[string]bool{}
	o.freeSince = map[int32]time.Time{}
	o.quarantine = map[string]time.Time{}
	o.status = messages.ClusterStatus{Node: o.cfg.Node, Owners: map[string]string{}}
}

func (o *ownershipActor) setDesired(ctx actor.Context, chs []messages.DesiredChannel) {
	o.desired = slices.Clone(chs)
	o.keep.mu.Lock()
	o.keep.desired = o.desired
	o.keep.mu.Unlock()
	o.servers = map[string]string{}
	for _, c := range chs {
		o.servers[c.Name] = c.Server
	}
	for name, key := range o.running {
		if _, ok := o.servers[name]; !ok {
			o.release(ctx, name, key, "no longer configured")
		}
	}
	if o.started {
		o.round(ctx)
	}
}

// round runs every Tick: fence if the session went unconfirmed too long,
// else confirm it and read the locks (the answer continues in onHeartbeat).
func (o *ownershipActor) round(ctx actor.Context) {
	now := o.cfg.Clock.Now()
	if o.timer == nil {
		self := ctx.Self()
		o.timer = o.cfg.Clock.AfterFunc(o.cfg.Timings.Tick, func() { o.sys.Send(self, tick{}) })
	}
	if len(o.running) > 0 && now.Sub(o.lastConfirmed) > o.cfg.Timings.FenceAfter {
		o.fence(ctx, "lock session not confirmed within "+o.cfg.Timings.FenceAfter.String())
	}
	if o.beating {
		return
	}
	if len(o.fencing) > 0 {
		if now.Sub(o.fencedAt) < o.cfg.Timings.Quarantine {
			return
		}
		o.cfg.Logger.Error("fenced channels not stopped within the quarantine; opening a new lock session anyway",
			slog.Int("channels", len(o.fencing)))
		o.fencing = map[string]bool{}
	}
	names := make([]string, 0, len(o.desired))
	for _, c := range o.desired {
		names = append(names, c.Name)
	}
	o.beating = true
	o.seq++
	w, epoch, seq, clk, timeout := o.w, o.epoch, o.seq, o.cfg.Clock, o.cfg.Timings.FenceAfter
	o.w.do(func(s *session) any {
		// Taken when the query is about to go out, not when it was
		// queued: the confirmation proves the session alive from here.
		sentAt := clk.Now()
		jctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		st, err := s.heartbeat(jctx, names)
		return heartbeatDone{w: w, epoch: epoch, seq: seq, sentAt: sentAt, st: st, err: err}
	})
}

func (o *ownershipActor) onHeartbeat(ctx actor.Context, m heartbeatDone) {
	if m.w != o.w {
		return
	}
	o.beating = false
	if m.epoch != o.epoch {
		return // from a session fenced since
	}
	if m.err != nil {
		o.status.LastError = m.err.Error()
		o.status.Connected = false
		if len(o.running) > 0 {
			o.fence(ctx, "lock session lost: "+m.err.Error())
		} else {
			o.closeSession()
		}
		o.publish(ctx)
		return
	}
	o.lastConfirmed, o.confirmedOnce = m.sentAt, true
	o.status.LastError, o.status.Connected = "", true
	now := o.cfg.Clock.Now()
	mine := map[string]int32{}
	owners := map[string]string{}
	for key, seq := range o.unlockSeq {
		if m.seq > seq {
			delete(o.unlockSeq, key)
		}
	}
	for _, c := range m.st.channels {
		o.keys[c.name] = c.key
		owners[c.name] = c.owner
		if _, unlocking := o.unlockSeq[c.key]; unlocking && c.mine {
			continue // read before this daemon let it go
		}
		if c.mine {
			mine[c.name] = c.key
			continue
		}
		if c.owner == "" {
			if _, ok := o.freeSince[c.key]; !ok {
				o.freeSince[c.key] = now
			}
		}
	}
	for key := range o.freeSince {
		if !keyFree(m.st.channels, key) {
			delete(o.freeSince, key)
		}
	}
	// Run what the locks say is ours (a collision of keys can make a lock
	// cover two channels); stop what they say is not.
	for name, key := range mine {
		if _, ok := o.running[name]; !ok {
			if _, stopping := o.releasing[name]; !stopping {
				o.run(ctx, name, key)
			}
		}
	}
	var lost []string
	for name := range o.running {
		if _, ok := mine[name]; !ok {
			lost = append(lost, name)
		}
	}
	if len(lost) > 0 {
		o.fenceChannels(ctx, lost, "lock not held")
	}
	live := 0
	for _, n := range m.st.nodes {
		if n.live {
			live++
		}
	}
	quarantined := o.updateQuarantine(m.st, now)
	p := plan(planInput{
		node: o.cfg.Node, channels: m.st.channels, servers: o.servers, liveNodes: max(live, 1),
		running: o.running, releasing: len(o.releasing), now: now, freeSince: o.freeSince,
		overSince: o.overSince, quarantined: quarantined, draining: o.draining,
		timings: o.cfg.Timings, freeSlots: o.cfg.FreeSlots,
	})
	o.overSince = p.overSince
	if len(p.acquire) > 0 {
		o.seq++
		keys, epoch, w, timeout := p.acquire, o.epoch, o.w, o.cfg.Timings.FenceAfter
		o.w.do(func(s *session) any {
			jctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			got, err := s.tryLock(jctx, keys)
			return lockDone{w: w, epoch: epoch, got: got, err: err}
		})
	}
	if p.releaseOK {
		for name, key := range o.running {
			if key == p.release {
				o.release(ctx, name, key, "above share")
			}
		}
	}
	o.status.Share = p.share
	o.status.Owners = owners
	o.status.CheckedAt = m.st.now
	o.status.Nodes = o.status.Nodes[:0]
	for _, n := range m.st.nodes {
		o.status.Nodes = append(o.status.Nodes, messages.ClusterNode{
			Name: n.name, StartedAt: n.startedAt, HeartbeatAt: n.heartbeatAt, Live: n.live})
	}
	o.publish(ctx)
}

// updateQuarantine remembers daemons that vanished while their last
// heartbeat is recent: until Quarantine after that heartbeat they may still
// be connected, about to fence, so nothing they could hold is taken. The
// end is fixed on the local clock when first seen, so a database clock that
// jumps later cannot shorten it. It reports whether one is still running.
func (o *ownershipActor) updateQuarantine(st status, now time.Time) bool {
	dead := map[string]bool{}
	for _, n := range st.nodes {
		if n.live || n.name == o.cfg.Node {
			continue
		}
		dead[n.name] = true
		if _, ok := o.quarantine[n.name]; ok {
			continue
		}
		left := o.cfg.Timings.Quarantine - st.now.Sub(n.heartbeatAt)
		o.quarantine[n.name] = now.Add(max(left, 0))
		if left > 0 {
			o.cfg.Logger.Info("daemon gone; what it held waits out the quarantine",
				slog.String("gone", n.name), slog.String("wait", left.String()))
		}
	}
	active := false
	for name, until := range o.quarantine {
		if !dead[name] {
			delete(o.quarantine, name)
			continue
		}
		if now.Before(until) {
			active = true
		}
	}
	return active
}

func keyFree(chs []channelLock, key int32) bool {
	for _, c := range chs {
		if c.key == key && c.owner == "" {
			return true
		}
	}
	return false
}

func (o *ownershipActor) onLocked(ctx actor.Context, m lockDone) {
	if m.w != o.w || m.epoch != o.epoch {
		return
	}
	if m.err != nil {
		o.cfg.Logger.Warn("taking channel locks failed", slog.Any("error", m.err))
		return
	}
	got := map[int32]bool{}
	for _, k := range m.got {
		got[k] = true
	}
	for _, c := range o.desired {
		if key, ok := o.keys[c.Name]; ok && got[key] {
			if _, running := o.running[c.Name]; !running {
				o.run(ctx, c.Name, key)
			}
		}
	}
	o.publish(ctx)
}

func (o *ownershipActor) run(ctx actor.Context, name string, key int32) {
	o.running[name] = key
	o.cfg.Counters.Acquisitions.Add(1)
	o.cfg.Counters.Owned.Store(int64(len(o.running)))
	o.cfg.Logger.Info("channel acquired", slog.String("channel", name))
	ctx.Send(o.cfg.Channels, messages.ChannelAcquired{Channel: name})
}

func (o *ownershipActor) release(ctx actor.Context, name string, key int32, why string) {
	delete(o.running, name)
	o.releasing[name] = key
	o.cfg.Counters.Owned.Store(int64(len(o.running)))
	o.cfg.Logger.Info("channel released", slog.String("channel", name), slog.String("reason", why))
	ctx.Send(o.cfg.Channels, messages.ChannelReleased{Channel: name})
}

// channelsRestarted forgets what the channels actor ran: its restart
// stopped every subtree. The locks are still held, so the next round runs
// them again; hand-overs in flight will get no answer and are unlocked now.
func (o *ownershipActor) channelsRestarted() {
	if len(o.running) == 0 && len(o.releasing) == 0 && len(o.fencing) == 0 {
		return
	}
	o.cfg.Logger.Warn("channels actor restarted; running the owned channels again", slog.Int("channels", len(o.running)))
	o.running = map[string]int32{}
	o.fencing = map[string]bool{}
	o.cfg.Counters.Owned.Store(0)
	for name := range o.releasing {
		o.onStopped(name)
	}
}

// onStopped unlocks a handed-over channel once its subtree is gone, and no
// other channel sharing its lock key is still stopping.
func (o *ownershipActor) onStopped(name string) {
	if o.fencing[name] {
		delete(o.fencing, name)
		return
	}
	key, ok := o.releasing[name]
	if !ok {
		return
	}
	delete(o.releasing, name)
	o.cfg.Counters.Releases.Add(1)
	for other, k := range o.releasing {
		if k == key && other != name {
			return
		}
	}
	for _, k := range o.running {
		if k == key {
			return // still covers a channel this daemon runs
		}
	}
	w, timeout := o.w, o.cfg.Timings.FenceAfter
	o.seq++
	o.unlockSeq[key] = o.seq
	o.w.do(func(s *session) any {
		jctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return unlockDone{w: w, err: s.unlock(jctx, key)}
	})
}

// fence stops every channel at once and ends the session: this daemon can
// no longer prove it holds their locks.
func (o *ownershipActor) fence(ctx actor.Context, why string) {
	var names []string
	for name := range o.running {
		names = append(names, name)
	}
	o.fenceChannels(ctx, names, why)
	o.closeSession()
}

func (o *ownershipActor) fenceChannels(ctx actor.Context, names []string, why string) {
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	for _, n := range names {
		delete(o.running, n)
		o.fencing[n] = true
	}
	o.fencedAt = o.cfg.Clock.Now()
	o.cfg.Counters.Owned.Store(int64(len(o.running)))
	o.cfg.Counters.Fences.Add(1)
	o.status.Fences++
	o.status.LastFence = o.cfg.Clock.Now()
	o.cfg.Logger.Warn("fenced: stopping channels", slog.Any("channels", names), slog.String("reason", why))
	ctx.Send(o.cfg.Channels, messages.Fenced{Channels: names})
}

// closeSession ends the lock session; results of work queued before are
// ignored from now on (a new epoch).
func (o *ownershipActor) closeSession() {
	o.keep.mu.Lock()
	o.keep.epoch++
	o.epoch = o.keep.epoch
	o.keep.mu.Unlock()
	o.seq++
	o.w.do(func(s *session) any { s.close(); return nil })
}

func (o *ownershipActor) publish(ctx actor.Context) {
	st := o.status
	st.Owned = make([]string, 0, len(o.running))
	for name := range o.running {
		st.Owned = append(st.Owned, name)
	}
	sort.Strings(st.Owned)
	st.Fences = o.cfg.Counters.Fences.Load()
	st.Owners = make(map[string]string, len(o.status.Owners))
	for k, v := range o.status.Owners {
		st.Owners[k] = v
	}
	st.Nodes = slices.Clone(o.status.Nodes)
	o.sys.Tree().SetState(ctx.Self().Id, st)
}

func (o *ownershipActor) stopWorker(leave bool) {
	if o.w == nil {
		return
	}
	o.w.stop(leave)
	o.w = nil
	o.keep.mu.Lock()
	o.keep.w = nil
	o.keep.mu.Unlock()
}

// worker runs the session's blocking calls one at a time on its own
// goroutine and reports each result to the actor as a message, so the
// actor's mailbox never waits on the database.
type worker struct {
	jobs chan func(*session) any
	done chan struct{}
	once sync.Once
}

func startWorker(sys *actorkit.System, self *actor.PID, cfg Config) *worker {
	w := &worker{jobs: make(chan func(*session) any, 64), done: make(chan struct{})}
	s := &session{cfg: cfg}
	go func() {
		defer close(w.done)
		for job := range w.jobs {
			if res := job(s); res != nil {
				sys.Send(self, res)
			}
		}
		s.leave()
	}()
	return w
}

var errWorkerFull = errors.New("ownership worker queue full")

func (w *worker) do(job func(*session) any) {
	select {
	case w.jobs <- job:
	default:
		panic(errWorkerFull) // a bug: the actor never queues more than a few
	}
}

// stop ends the worker after the queued jobs; leave removes the node's row
// first (a graceful stop). It waits a bounded time: a job stuck on a dead
// network has its own deadline.
func (w *worker) stop(leave bool) {
	w.once.Do(func() {
		if !leave {
			w.jobs <- func(s *session) any { s.close(); return nil }
		}
		close(w.jobs)
	})
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
	}
}
