package moderation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins/moderation"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// out records what the plugin hands the outbound queue: chat lines
// (moderation commands and replies), PMs and raw events.
type out struct {
	mu     sync.Mutex
	chat   []string
	pms    []plugintest.Said
	events []messages.SendEvent
}

func (o *out) Receive(ctx actor.Context) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch m := ctx.Message().(type) {
	case *messages.SendChat:
		o.chat = append(o.chat, m.Msg)
	case *messages.SendPM:
		o.pms = append(o.pms, plugintest.Said{PM: true, To: m.To, Msg: m.Msg})
	case *messages.SendEvent:
		o.events = append(o.events, *m)
	}
}

func (o *out) lines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.chat...)
}

func (o *out) pmTexts() []plugintest.Said {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]plugintest.Said(nil), o.pms...)
}

func (o *out) sent() []messages.SendEvent {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]messages.SendEvent(nil), o.events...)
}

func count(list []string, want string) int {
	n := 0
	for _, l := range list {
		if l == want {
			n++
		}
	}
	return n
}

// sqlGate stands between the plugin and the SQL writer: while down it
// answers every request as the writer does during an outage; while holding
// it keeps requests back until released, as a slow database would.
type sqlGate struct {
	writer *actor.PID
	mu     sync.Mutex
	down   bool
	hold   bool
	held   []heldRequest
}

type heldRequest struct {
	req    *messages.SQLRequest
	sender *actor.PID
}

// releaseHeld tells the gate to pass on the held requests whose query
// matches (all of them, and stop holding, when match is nil), in order.
type releaseHeld struct{ match func(query string) bool }

func (g *sqlGate) setDown(down bool) {
	g.mu.Lock()
	g.down = down
	g.mu.Unlock()
}

func (g *sqlGate) Receive(ctx actor.Context) {
	if rel, ok := ctx.Message().(releaseHeld); ok {
		g.mu.Lock()
		var pass, keep []heldRequest
		for _, h := range g.held {
			if rel.match == nil || rel.match(h.req.Query) {
				pass = append(pass, h)
			} else {
				keep = append(keep, h)
			}
		}
		g.held = keep
		if rel.match == nil {
			g.hold = false
		}
		g.mu.Unlock()
		for _, h := range pass {
			ctx.RequestWithCustomSender(g.writer, h.req, h.sender)
		}
		return
	}
	m, ok := ctx.Message().(*messages.SQLRequest)
	if !ok {
		return
	}
	g.mu.Lock()
	down, hold := g.down, g.hold
	if hold {
		g.held = append(g.held, heldRequest{req: m, sender: ctx.Sender()})
	}
	g.mu.Unlock()
	if hold {
		return
	}
	if down {
		ctx.Respond(&messages.SQLResponse{ID: m.ID, Err: fmt.Errorf("test outage: %w", messages.ErrDatabaseUnavailable)})
		return
	}
	ctx.Forward(g.writer)
}

type rig struct {
	*plugintest.Harness
	out     *out
	gate    *sqlGate
	gatePID *actor.PID
}

// release passes on the held requests whose query matches, or all of them
// (and stops holding) when match is nil.
func (r *rig) release(match func(query string) bool) {
	r.Sys.Send(r.gatePID, releaseHeld{match: match})
}

type rigOptions struct {
	dbURL string
	down  bool
	hold  bool // the gate holds requests until release
	fake  *clock.Fake
}

func startRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	if o.fake == nil {
		o.fake = clock.NewFake(epoch)
	}
	r := &rig{out: &out{}, gate: &sqlGate{down: o.down, hold: o.hold}}
	r.Harness = plugintest.Start(t, plugintest.Options{Fake: o.fake, DatabaseURL: o.dbURL, Deps: func(d *pluginkit.Deps) {
		r.gate.writer = d.SQL
		gate, err := d.System.Root().SpawnNamed(d.System.Props("gate", func() actor.Actor { return r.gate }), "sqlgate")
		if err != nil {
			t.Fatal(err)
		}
		d.SQL, r.gatePID = gate, gate
		o, err := d.System.Root().SpawnNamed(d.System.Props("rec", func() actor.Actor { return r.out }), "modout")
		if err != nil {
			t.Fatal(err)
		}
		d.Outbound = o
	}}, func(d pluginkit.Deps) []pluginkit.Spec {
		return []pluginkit.Spec{{Name: moderation.Name, Props: moderation.Props(d)}}
	})
	t.Cleanup(func() {
		if t.Failed() {
			r.dump()
		}
	})
	r.WaitRegistered("kick", "ban", "unban", "tempban", "mute", "unmute", "modlog", "automod")
	return r
}

// dump logs what the plugin and the EventFilter did, so a failure that only
// shows under load says more than which wait ran out.
func (r *rig) dump() {
	r.T.Logf("plugin chat: %q", r.out.lines())
	r.T.Logf("plugin PMs: %+v", r.out.pmTexts())
	r.T.Logf("plugin events: %+v", r.out.sent())
	r.T.Logf("EventFilter answers: %+v", r.Said())
	r.T.Logf("EventFilter decisions: %+v", r.Routes())
	st, ok := r.PluginState(moderation.Name)
	r.T.Logf("plugin state (found %v): %+v", ok, st)
}

// standard joins the usual cast: the bot at rank 2, a founder, an admin,
// two moderators and two users.
func (r *rig) standard() {
	r.Join(
		messages.User{Name: "Owner", Rank: 5},
		messages.User{Name: "Admin", Rank: 3},
		messages.User{Name: "Mod", Rank: 2},
		messages.User{Name: "Mod2", Rank: 2},
		messages.User{Name: "alice", Rank: 1},
		messages.User{Name: "bob", Rank: 0},
	)
}

// waitChat waits until the plugin queued line exactly n times.
func (r *rig) waitChat(line string, n int) {
	r.T.Helper()
	actortest.CheckFor(r.T, plugintest.Wait, fmt.Sprintf("%q sent %d times", line, n), func() bool {
		return count(r.out.lines(), line) >= n
	})
}

// waitPM waits for a PM to user containing want.
func (r *rig) waitPM(to, want string) {
	r.T.Helper()
	actortest.CheckFor(r.T, plugintest.Wait, fmt.Sprintf("a PM to %s with %q", to, want), func() bool {
		for _, s := range r.out.pmTexts() {
			if strings.EqualFold(s.To, to) && strings.Contains(s.Msg, want) {
				return true
			}
		}
		return false
	})
}

// waitAnswer waits for text among the plugin's replies or the EventFilter's
// refusals.
func (r *rig) waitAnswer(want string) {
	r.T.Helper()
	actortest.CheckFor(r.T, plugintest.Wait, "an answer with "+want, func() bool {
		for _, l := range r.out.lines() {
			if strings.Contains(l, want) {
				return true
			}
		}
		for _, s := range r.out.pmTexts() {
			if strings.Contains(s.Msg, want) {
				return true
			}
		}
		for _, s := range r.Said() {
			if strings.Contains(s.Msg, want) {
				return true
			}
		}
		return false
	})
}

// logRows returns action/outcome of the log rows of target, oldest first.
func (r *rig) logRows(target string) []string {
	r.T.Helper()
	rows, err := r.Pool.Query(context.Background(), `SELECT action, outcome FROM daz_moderation_actions
WHERE lower(target) = lower($1) ORDER BY at, id`, target)
	if err != nil {
		r.T.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a, o string
		if err := rows.Scan(&a, &o); err != nil {
			r.T.Fatal(err)
		}
		out = append(out, a+"/"+o)
	}
	return out
}

func (r *rig) waitLog(target string, want ...string) {
	r.T.Helper()
	actortest.CheckFor(r.T, plugintest.Wait, fmt.Sprintf("log of %s = %v", target, want), func() bool {
		return strings.Join(r.logRows(target), ",") == strings.Join(want, ",")
	})
}

// waitDetail waits until the plugin's state on the tree satisfies ok.
func (r *rig) waitDetail(what string, ok func(d detail) bool) {
	r.T.Helper()
	r.WaitPluginState(moderation.Name, func(st pluginkit.State) bool {
		b, err := json.Marshal(st.Detail)
		if err != nil {
			return false
		}
		var d detail
		return json.Unmarshal(b, &d) == nil && ok(d)
	})
}

// detail mirrors the plugin's state on the tree.
type detail struct {
	Loaded      bool      `json:"loaded"`
	Active      int       `json:"active"`
	NextLift    time.Time `json:"next_lift"`
	QueuedRows  int       `json:"queued_rows"`
	Rules       int       `json:"rules"`
	BotRank     float64   `json:"bot_rank"`
	RulesLoaded bool      `json:"rules_loaded"`
}

func waitEvent(t *testing.T, r *rig, name string, n int) {
	t.Helper()
	actortest.CheckFor(t, plugintest.Wait, name+" sent", func() bool {
		c := 0
		for _, e := range r.out.sent() {
			if e.Name == name {
				c++
			}
		}
		return c >= n
	})
}

func lastEvent(r *rig, name string) *messages.SendEvent {
	evs := r.out.sent()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Name == name {
			return &evs[i]
		}
	}
	return nil
}

func sameUnban(payload any, id int64, name string) bool {
	b, err := json.Marshal(payload)
	if err != nil {
		return false
	}
	var got struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	return json.Unmarshal(b, &got) == nil && got.ID == id && got.Name == name
}
