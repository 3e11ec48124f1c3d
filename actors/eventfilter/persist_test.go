package eventfilter_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/eventfilter"
	"github.com/daz-bot/daz/messages"
)

// heldWriter answers the EventFilter's reads at once with no rows and keeps
// every command upsert waiting until the test releases it.
type heldWriter struct {
	sys *actorkit.System
	mu  sync.Mutex
	ups []heldUpsert
}

type heldUpsert struct {
	names  []string
	id     uint64
	sender *actor.PID
}

func (w *heldWriter) Receive(ctx actor.Context) {
	req, ok := ctx.Message().(*messages.SQLRequest)
	if !ok {
		return
	}
	if !strings.HasPrefix(req.Query, "INSERT INTO daz_eventfilter_cmds") {
		ctx.Respond(&messages.SQLResponse{ID: req.ID})
		return
	}
	var rows []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(req.Args[0].(string)), &rows); err != nil {
		panic(err)
	}
	up := heldUpsert{id: req.ID, sender: ctx.Sender()}
	for _, r := range rows {
		up.names = append(up.names, r.Name)
	}
	w.mu.Lock()
	w.ups = append(w.ups, up)
	w.mu.Unlock()
}

func (w *heldWriter) upserts() []heldUpsert {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.ups)
}

func (w *heldWriter) release(i int) {
	up := w.upserts()[i]
	w.sys.Send(up.sender, &messages.SQLResponse{ID: up.id})
}

// TestCommandSavesGoOneRoundAtATime: while a round of command upserts is on
// its way, the plugins that register wait for it, and the next round saves
// all of them in one statement; after that nothing is left to save.
func TestCommandSavesGoOneRoundAtATime(t *testing.T) {
	t.Parallel()
	sys := actorkit.NewSystem(actortest.Logger(t, slog.LevelWarn), nil)
	w := &heldWriter{sys: sys}
	sql, err := sys.Root().SpawnNamed(sys.Props("sqlwriter", func() actor.Actor { return w }), "sqlwriter")
	if err != nil {
		t.Fatal(err)
	}
	props, err := eventfilter.Props(sys, eventfilter.Config{Channel: "c", SQL: sql, SQLTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	filter, err := sys.Root().SpawnNamed(props, "eventfilter")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, id := range []string{"eventfilter", "sqlwriter"} {
			_ = sys.Shutdown(ctx, id)
		}
	})
	wantRounds := func(n int) {
		t.Helper()
		actortest.CheckFor(t, 5*time.Second, "upsert rounds", func() bool { return len(w.upserts()) == n })
	}
	wantRounds(1) // the EventFilter's own !reload
	for _, p := range []struct{ plugin, cmd string }{{"a", "alpha"}, {"b", "beta"}, {"c", "gamma"}} {
		sys.Send(filter, &messages.RegisterPlugin{Plugin: p.plugin, Owner: sys.PIDOf("plugins/" + p.plugin),
			Commands: []messages.CommandSpec{{Name: p.cmd}}})
	}
	// The EventFilter handles its mailbox in order: once it has listed its
	// commands, it has handled the three registrations too.
	res, err := sys.Ask(filter, &messages.ListCommands{Channel: "c"}, 5*time.Second)
	if err != nil || len(res.(*messages.CommandList).Commands) != 4 {
		t.Fatalf("commands %v, %v; want 4", res, err)
	}
	// And the writer has what the EventFilter sent it before answering.
	if _, err := sys.Ask(sql, &messages.SQLRequest{Query: "SELECT 1"}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := w.upserts(); len(got) != 1 {
		t.Fatalf("%d upserts while the first was on its way, want 1: %+v", len(got), got)
	}
	w.release(0)
	wantRounds(2)
	if got := w.upserts()[1].names; !slices.Equal(got, []string{"alpha", "beta", "gamma"}) {
		t.Fatalf("second round saved %v", got)
	}
	w.release(1)
	actortest.CheckFor(t, 5*time.Second, "nothing left to save", func() bool {
		v, _ := sys.Tree().State("eventfilter")
		st, ok := v.(eventfilter.State)
		return ok && st.Pending == 0
	})
	if n := len(w.upserts()); n != 2 {
		t.Fatalf("%d upsert rounds, want 2", n)
	}
}
