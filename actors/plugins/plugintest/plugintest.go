// Package plugintest runs plugins the way the daemon does, for tests: a real
// SQL writer on a fresh PostgreSQL database, the real EventFilter, the
// plugins under the plugin supervisor, and a recorder in place of the
// outbound queue. Tests feed server events in and read what the bot would
// have said.
package plugintest

import (
	"context"
	"encoding/json"
	"html"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/eventfilter"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/sqlwriter"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"
)

// Defaults of a harness.
const (
	Channel = "testchan"
	Bot     = "dazbot"
	Wait    = 10 * time.Second
)

// Options tunes Start.
type Options struct {
	// Fake runs the actor system on a fake clock (the SQL writer keeps the
	// real one so its flushes happen).
	Fake *clock.Fake
	// DatabaseURL reuses a database (restart tests); empty makes a new one.
	DatabaseURL string
	// LogEvents also hands every event to the SQL writer, as the
	// connection does, so daz_core_chat_log fills.
	LogEvents bool
	// Strategy overrides the plugin supervisor's settings.
	Strategy *supervision.PluginStrategyConfig
	// Deps adjusts the plugin dependencies before the plugins start.
	Deps func(*pluginkit.Deps)
	// Logger replaces the test log (warnings and up), for tests that check
	// what the operator is told.
	Logger *slog.Logger
}

// Said is one message the bot would have sent.
type Said struct {
	PM  bool
	To  string
	Msg string
}

// Harness is one running plugin setup.
type Harness struct {
	T        testing.TB
	Sys      *actorkit.System
	Clock    clock.Clock
	Fake     *clock.Fake
	DBURL    string
	Pool     *pgxpool.Pool
	Deps     pluginkit.Deps
	Strategy *supervision.PluginStrategy

	filter, writer *actor.PID
	logEvents      bool
	seq            uint64
	join           *connection.JoinTracker
	rec            *recorder
	unsubscribe    func()
	mu             sync.Mutex
	routes         []messages.Route
	stopped        bool
}

// Start runs the plugins that specs builds.
func Start(t testing.TB, opts Options, specs func(pluginkit.Deps) []pluginkit.Spec) *Harness {
	t.Helper()
	h := &Harness{T: t, Fake: opts.Fake, logEvents: opts.LogEvents, rec: &recorder{},
		join: connection.NewJoinTracker(Bot, 0)}
	var clk clock.Clock
	if opts.Fake != nil {
		clk = opts.Fake
	} else {
		clk = clock.Real()
	}
	h.Clock = clk
	h.DBURL = opts.DatabaseURL
	if h.DBURL == "" {
		h.DBURL = testpg.NewMigrated(t)
	}
	h.Pool = testpg.Pool(t, h.DBURL)
	logger := opts.Logger
	if logger == nil {
		logger = actortest.Logger(t, slog.LevelWarn)
	}
	h.Sys = actorkit.NewSystem(logger, clk)
	h.unsubscribe = h.Sys.SubscribeFunc(func(m any) {
		if r, ok := m.(*messages.Route); ok {
			h.mu.Lock()
			h.routes = append(h.routes, *r)
			h.mu.Unlock()
		}
	})

	h.writer = h.spawn(sqlwriter.Props(h.Sys, sqlwriter.Config{
		DatabaseURL: h.DBURL, DataDir: t.TempDir(), Clock: clock.Real(), Logger: h.Sys.Logger(),
	}), "sqlwriter")
	out := h.spawn(h.Sys.Props("recorder", func() actor.Actor { return h.rec }), "outbound")
	fp, err := eventfilter.Props(h.Sys, eventfilter.Config{
		Channel: Channel, Outbound: out, SQL: h.writer, Clock: clk, Logger: h.Sys.Logger(),
	})
	if err != nil {
		t.Fatalf("eventfilter props: %v", err)
	}
	h.filter = h.spawn(fp, "eventfilter")

	scfg := supervision.PluginStrategyConfig{Clock: clk, Logger: h.Sys.Logger(), BaseDelay: 10 * time.Millisecond}
	if opts.Strategy != nil {
		scfg = *opts.Strategy
	}
	h.Strategy = supervision.NewPluginStrategy(scfg)
	h.Deps = pluginkit.Deps{
		System: h.Sys, Channel: Channel, EventFilter: h.filter, Outbound: out, SQL: h.writer,
		Clock: clk, Logger: h.Sys.Logger(), Version: "test", StartedAt: clk.Now(), Supervision: h.Strategy,
		LogDir: t.TempDir(),
	}
	if opts.Deps != nil {
		opts.Deps(&h.Deps)
	}
	h.spawn(pluginkit.HostProps(h.Sys, specs(h.Deps.Shared()), h.Strategy, h.filter), "plugins")
	t.Cleanup(h.Stop)
	return h
}

func (h *Harness) spawn(props *actor.Props, name string) *actor.PID {
	h.T.Helper()
	pid, err := h.Sys.Root().SpawnNamed(props, name)
	if err != nil {
		h.T.Fatalf("spawn %s: %v", name, err)
	}
	return pid
}

// Stop shuts the system down leaf-first, the SQL writer last so it writes
// out what it holds. It is safe to call twice.
func (h *Harness) Stop() {
	if h.stopped {
		return
	}
	h.stopped = true
	h.unsubscribe()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, id := range []string{"plugins", "eventfilter", "outbound", "sqlwriter"} {
		if err := h.Sys.Shutdown(ctx, id); err != nil {
			h.T.Errorf("shutdown %s: %v", id, err)
		}
	}
}

// Filter is the EventFilter's PID.
func (h *Harness) Filter() *actor.PID { return h.filter }

// Send delivers one server event as the connection would: numbered and
// stamped by the connection's JoinTracker.
func (h *Harness) Send(name string, body any) *messages.Event {
	h.seq++
	raw, err := json.Marshal(body)
	if err != nil {
		h.T.Fatalf("marshal %s: %v", name, err)
	}
	ev := &messages.Event{Channel: Channel, Name: name, Seq: h.seq, Received: h.Clock.Now(), Raw: raw, Body: body}
	h.join.Stamp(ev)
	h.Sys.Send(h.filter, ev)
	if h.logEvents {
		h.Sys.Send(h.writer, ev)
	}
	return ev
}

// Join starts a socket: the burst's userlist with these users and the bot.
func (h *Harness) Join(users ...messages.User) {
	h.seq = 0
	users = append(users, messages.User{Name: Bot, Rank: 2})
	h.Send("userlist", &messages.UserList{Users: users})
	h.Send("login", &messages.Login{Success: true, Name: Bot})
}

// NewSocket makes the next event the first of a new socket (Seq 1), as
// after a reconnect; the join burst follows.
func (h *Harness) NewSocket() { h.seq = 0 }

// AddUser announces a user joining.
func (h *Harness) AddUser(name string, rank float64) {
	h.Send("addUser", &messages.AddUser{User: messages.User{Name: name, Rank: rank}})
}

// UserLeave announces a user leaving.
func (h *Harness) UserLeave(name string) {
	h.Send("userLeave", &messages.UserLeave{Name: name})
}

// Chat sends a live chat line.
func (h *Harness) Chat(user, text string) {
	h.Send("chatMsg", &messages.ChatMsg{Username: user, Msg: html.EscapeString(text), Meta: json.RawMessage(`{}`),
		Time: h.Clock.Now().UnixMilli(), Text: text})
}

// PM sends a private message to the bot.
func (h *Harness) PM(user, text string) {
	h.Send("pm", &messages.Pm{Username: user, To: Bot, Msg: html.EscapeString(text), Meta: json.RawMessage(`{}`),
		Time: h.Clock.Now().UnixMilli(), Text: text})
}

// Said returns everything the bot said so far.
func (h *Harness) Said() []Said { return h.rec.all() }

// WaitSaid waits until the bot said something containing want and returns it.
func (h *Harness) WaitSaid(want string) Said {
	h.T.Helper()
	var got Said
	actortest.CheckFor(h.T, Wait, "the bot to say "+want, func() bool {
		for _, s := range h.rec.all() {
			if strings.Contains(s.Msg, want) {
				got = s
				return true
			}
		}
		return false
	})
	return got
}

// WaitCount waits until the bot said n messages.
func (h *Harness) WaitCount(n int) []Said {
	h.T.Helper()
	actortest.CheckFor(h.T, Wait, "the bot to say enough", func() bool { return len(h.rec.all()) >= n })
	return h.rec.all()
}

// Routes returns the EventFilter decisions seen so far.
func (h *Harness) Routes() []messages.Route {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]messages.Route(nil), h.routes...)
}

// WaitRouted waits until command was routed n times in total.
func (h *Harness) WaitRouted(command string, n int) {
	h.T.Helper()
	actortest.CheckFor(h.T, Wait, "!"+command+" to be routed", func() bool {
		c := 0
		for _, r := range h.Routes() {
			if r.Command == command && r.Decision == messages.RouteRouted {
				c++
			}
		}
		return c >= n
	})
}

// WaitRegistered waits until the EventFilter routes every named command.
func (h *Harness) WaitRegistered(names ...string) {
	h.T.Helper()
	actortest.CheckFor(h.T, Wait, "commands "+strings.Join(names, ",")+" registered", func() bool {
		res, err := h.Sys.Root().RequestFuture(h.filter, &messages.ListCommands{Channel: Channel}, Wait).Result()
		if err != nil {
			return false
		}
		have := map[string]bool{}
		for _, c := range res.(*messages.CommandList).Commands {
			have[c.Name] = true
		}
		for _, n := range names {
			if !have[n] {
				return false
			}
		}
		return true
	})
}

// Sync returns once plugin name has handled everything sent to the
// EventFilter before the call.
func (h *Harness) Sync(name string) {
	h.T.Helper()
	res, err := h.Sys.Root().RequestFuture(h.filter, &messages.PluginRequest{Channel: Channel, Plugin: name, Kind: pluginkit.StatusRequest}, Wait).Result()
	if err != nil {
		h.T.Fatalf("sync with plugin %s: %v", name, err)
	}
	if r, ok := res.(*messages.PluginResponse); !ok || r.Err != nil {
		h.T.Fatalf("sync with plugin %s: %+v", name, res)
	}
}

// PluginState returns what plugin name shows on the tree.
func (h *Harness) PluginState(name string) (pluginkit.State, bool) {
	v, ok := h.Sys.Tree().State("plugins/" + name)
	st, isState := v.(pluginkit.State)
	return st, ok && isState
}

// WaitPluginState waits until plugin name shows a state for which ok holds.
func (h *Harness) WaitPluginState(name string, ok func(pluginkit.State) bool) {
	h.T.Helper()
	actortest.CheckFor(h.T, Wait, "state of plugin "+name, func() bool {
		st, found := h.PluginState(name)
		return found && ok(st)
	})
}

// WaitLoaded waits until plugin name reports a detail with Loaded set,
// the convention of plugins that read the database at start.
func (h *Harness) WaitLoaded(name string) {
	h.T.Helper()
	h.WaitPluginState(name, func(st pluginkit.State) bool {
		b, err := json.Marshal(st.Detail)
		if err != nil {
			return false
		}
		var d struct{ Loaded bool }
		return json.Unmarshal(b, &d) == nil && d.Loaded
	})
}

// recorder stands in for the outbound queue.
type recorder struct {
	mu   sync.Mutex
	said []Said
}

func (r *recorder) Receive(ctx actor.Context) {
	var s Said
	switch m := ctx.Message().(type) {
	case *messages.SendChat:
		s = Said{Msg: m.Msg}
	case *messages.SendPM:
		s = Said{PM: true, To: m.To, Msg: m.Msg}
	default:
		return
	}
	r.mu.Lock()
	r.said = append(r.said, s)
	r.mu.Unlock()
}

func (r *recorder) all() []Said {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Said(nil), r.said...)
}
