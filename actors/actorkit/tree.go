package actorkit

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/daz-bot/daz/actors/clock"
)

// Tree tracks every actor spawned through this package: who its parent is,
// when it started, how often it restarted and how it last failed. The debug
// endpoint reads it; actors write their own state description into it.
type Tree struct {
	clock clock.Clock
	mu    sync.RWMutex
	nodes map[string]*node
	seq   uint64
}

type node struct {
	id, kind, parent string
	pid              *actor.PID
	seq              uint64 // spawn order among siblings
	spawned          time.Time
	stopPolicy       StopPolicy
	mailbox          actor.Mailbox

	mu            sync.Mutex
	started       time.Time
	restarts      int
	lastFailure   string
	lastFailureAt time.Time
	// suspended: the actor failed and waits for its supervisor to restart
	// it; its mailbox runs no user message (a PoisonPill) until then.
	suspended bool
	state     any
	subs      []*subscriber
}

func (n *node) isSuspended() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.suspended
}

func newTree(clk clock.Clock) *Tree {
	return &Tree{clock: clk, nodes: map[string]*node{}}
}

func (t *Tree) add(n *node) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	n.seq = t.seq
	n.spawned = t.clock.Now()
	n.started = n.spawned
	t.nodes[n.id] = n
}

func (t *Tree) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.nodes, id)
}

func (t *Tree) get(id string) *node {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.nodes[id]
}

// children returns the live children of id in spawn order.
func (t *Tree) children(id string) []*node {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []*node
	for _, n := range t.nodes {
		if n.parent == id {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func (n *node) getPID() *actor.PID {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pid
}

// PID returns the live PID of actor id.
func (t *Tree) PID(id string) (*actor.PID, bool) {
	n := t.get(id)
	if n == nil {
		return nil, false
	}
	pid := n.getPID()
	return pid, pid != nil
}

// SetState records what actor id wants the debug endpoint to show about it.
// The value must be safe to read from another goroutine (a copied struct).
func (t *Tree) SetState(id string, state any) {
	if n := t.get(id); n != nil {
		n.mu.Lock()
		n.state = state
		n.mu.Unlock()
	}
}

// State returns what actor id last recorded with SetState.
func (t *Tree) State(id string) (any, bool) {
	n := t.get(id)
	if n == nil {
		return nil, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state, true
}

// NodeInfo describes one actor for introspection.
type NodeInfo struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Kind          string     `json:"kind"`
	State         any        `json:"state,omitempty"`
	Restarts      int        `json:"restarts"`
	LastFailure   string     `json:"last_failure,omitempty"`
	LastFailureAt *time.Time `json:"last_failure_at,omitempty"`
	MailboxDepth  int        `json:"mailbox_depth"`
	StartedAt     time.Time  `json:"started_at"`
	UptimeSeconds float64    `json:"uptime_seconds"`
	Children      []NodeInfo `json:"children"`
}

// Snapshot returns the live tree as typed structs, one per root actor.
func (t *Tree) Snapshot() []NodeInfo {
	now := t.clock.Now()
	var roots []NodeInfo
	t.mu.RLock()
	ids := make(map[string]bool, len(t.nodes))
	for id := range t.nodes {
		ids[id] = true
	}
	t.mu.RUnlock()
	for _, n := range t.sortedNodes() {
		if n.parent == "" || !ids[n.parent] {
			roots = append(roots, t.describe(n, now))
		}
	}
	return roots
}

// Find returns the description of one actor and its subtree.
func (t *Tree) Find(id string) (NodeInfo, bool) {
	n := t.get(id)
	if n == nil {
		return NodeInfo{}, false
	}
	return t.describe(n, t.clock.Now()), true
}

func (t *Tree) sortedNodes() []*node {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]*node, 0, len(t.nodes))
	for _, n := range t.nodes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func (t *Tree) describe(n *node, now time.Time) NodeInfo {
	n.mu.Lock()
	info := NodeInfo{
		ID:            n.id,
		Name:          n.id[strings.LastIndex(n.id, "/")+1:],
		Kind:          n.kind,
		State:         n.state,
		Restarts:      n.restarts,
		LastFailure:   n.lastFailure,
		StartedAt:     n.started,
		UptimeSeconds: now.Sub(n.started).Seconds(),
		Children:      []NodeInfo{},
	}
	if !n.lastFailureAt.IsZero() {
		at := n.lastFailureAt
		info.LastFailureAt = &at
	}
	mb := n.mailbox
	n.mu.Unlock()
	if mb != nil {
		info.MailboxDepth = mb.UserMessageCount()
	}
	for _, c := range t.children(n.id) {
		info.Children = append(info.Children, t.describe(c, now))
	}
	return info
}
