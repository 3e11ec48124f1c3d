package eventfilter_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/eventfilter"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

// probe is a plugin that owns a few commands and records what reaches it.
type probe struct {
	kit *pluginkit.Kit
	got *commandLog
}

type commandLog struct {
	mu   sync.Mutex
	cmds []messages.Command
}

func (l *commandLog) add(c messages.Command) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cmds = append(l.cmds, c)
}

func (l *commandLog) all() []messages.Command {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.cmds)
}

func probeCommands() []messages.CommandSpec {
	return []messages.CommandSpec{
		{Name: "echo", Aliases: []string{"e", "say"}, PMAllowed: true, Usage: "echo <text>"},
		{Name: "mod", MinRank: 2, PMAllowed: true},
		{Name: "half", MinRank: 1.5, PMAllowed: true},
		{Name: "slow", Cooldown: 30 * time.Second, PMAllowed: true},
		{Name: "chatonly"},
		{Name: "off", PMAllowed: true},
	}
}

func (p *probe) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	if c, ok := ctx.Message().(*messages.Command); ok {
		p.got.add(*c)
		if c.ArgText == "refuse" {
			p.kit.Refuse(ctx, c, "database unavailable: test", "The database is away, "+c.User+".")
		}
	}
}

type env struct {
	*plugintest.Harness
	got  *commandLog
	fake *clock.Fake
}

var start = time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)

// newEnv starts the EventFilter with the probe on a database prepared by
// seed (run before anything starts). The probe's "off" command is always
// disabled by the operator.
func newEnv(t *testing.T, seed ...string) *env {
	t.Helper()
	return newLoggedEnv(t, nil, seed...)
}

// newLoggedEnv is newEnv logging to logger.
func newLoggedEnv(t *testing.T, logger *slog.Logger, seed ...string) *env {
	t.Helper()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	for _, q := range append([]string{seedDisabled}, seed...) {
		if _, err := pool.Exec(t.Context(), q); err != nil {
			t.Fatalf("seed %q: %v", q, err)
		}
	}
	e := &env{got: &commandLog{}, fake: clock.NewFake(start)}
	e.Harness = plugintest.Start(t, plugintest.Options{Fake: e.fake, DatabaseURL: dbURL, Logger: logger}, func(d pluginkit.Deps) []pluginkit.Spec {
		return []pluginkit.Spec{{Name: "probe", Props: pluginkit.Props(d, func() actor.Actor {
			return &probe{got: e.got, kit: pluginkit.New(d, "probe", func() pluginkit.Registration {
				return pluginkit.Registration{Commands: probeCommands()}
			})}
		})}}
	})
	e.WaitRegistered("echo", "mod", "half", "slow", "chatonly", "off", "reload")
	// Every declared command is saved (tests edit the rows afterwards).
	actortest.CheckFor(t, plugintest.Wait, "registry saved", func() bool {
		v, _ := e.Sys.Tree().State("eventfilter")
		st, ok := v.(eventfilter.State)
		var rows int
		err := pool.QueryRow(t.Context(), `SELECT count(*) FROM daz_eventfilter_cmds WHERE default_min_rank IS NOT NULL`).Scan(&rows)
		// LastReload: the ignored users and rate limits are in force too.
		return ok && st.Pending == 0 && !st.LastReload.IsZero() && err == nil && rows == len(probeCommands())+1
	})
	e.waitTable(func(cs []messages.CommandInfo) bool {
		for _, c := range cs {
			if c.Name == "off" {
				return !c.Enabled
			}
		}
		return false
	})
	return e
}

// waitTable waits until the EventFilter's table satisfies ok.
func (e *env) waitTable(ok func([]messages.CommandInfo) bool) {
	e.T.Helper()
	actortest.CheckFor(e.T, plugintest.Wait, "command table", func() bool {
		res, err := e.Sys.Root().RequestFuture(e.Filter(), &messages.ListCommands{}, time.Second).Result()
		return err == nil && ok(res.(*messages.CommandList).Commands)
	})
}

// waitRoute waits for the n-th decision about user and returns it.
func (e *env) waitRoute(user string, n int) messages.Route {
	e.T.Helper()
	var r messages.Route
	actortest.CheckFor(e.T, plugintest.Wait, fmt.Sprintf("decision %d for %s", n, user), func() bool {
		var mine []messages.Route
		for _, x := range e.Routes() {
			if x.User == user {
				mine = append(mine, x)
			}
		}
		if len(mine) < n {
			return false
		}
		r = mine[n-1]
		return true
	})
	return r
}

const seedDisabled = `INSERT INTO daz_eventfilter_cmds (name, plugin, enabled) VALUES ('off', 'probe', false)`
const seedIgnored = `INSERT INTO daz_eventfilter_ignored_users (channel, username, reason) VALUES ('testchan', 'Troll', 'spam')`
const seedLimit = `INSERT INTO daz_eventfilter_user_limits (channel, username, max_per_minute) VALUES ('testchan', 'spammer', 2)`

type step struct {
	user string
	text string
	pm   bool
	// want is the decision for this step's command; "" means no decision
	// at all (not a command).
	want   messages.RouteDecision
	reason string
	// advance moves the fake clock before the step.
	advance time.Duration
}

func TestRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedIgnored, seedLimit)
	e.Join(
		messages.User{Name: "alice", Rank: 1}, messages.User{Name: "Mod", Rank: 2},
		messages.User{Name: "halfling", Rank: 1.5}, messages.User{Name: "Troll", Rank: 1},
		messages.User{Name: "spammer", Rank: 1}, messages.User{Name: "bob", Rank: 1},
		messages.User{Name: "carol", Rank: 0}, messages.User{Name: "pmuser", Rank: 1},
	)
	tests := []struct {
		name  string
		steps []step
		// commands is how many Commands the probe must get from this case.
		commands int
	}{
		{"prefix routes", []step{{user: "alice", text: "!echo hi", want: messages.RouteRouted}}, 1},
		{"no prefix is chat", []step{{user: "alice", text: "echo hi"}, {user: "alice", text: "! echo"}, {user: "alice", text: "?echo"}}, 0},
		{"alias and case", []step{{user: "alice", text: "!E x", want: messages.RouteRouted}, {user: "alice", text: "!SAY y", want: messages.RouteRouted}}, 2},
		{"unknown command", []step{{user: "alice", text: "!nosuch", want: messages.RouteUnknown}}, 0},
		{"rank too low", []step{{user: "alice", text: "!mod", want: messages.RouteBlockedRank, reason: "rank 1 below 2"}}, 0},
		{"rank enough", []step{{user: "Mod", text: "!mod", want: messages.RouteRouted}}, 1},
		{"fractional rank", []step{{user: "halfling", text: "!half", want: messages.RouteRouted}, {user: "bob", text: "!half", want: messages.RouteBlockedRank}}, 1},
		{"cooldown per user", []step{
			{user: "bob", text: "!slow", want: messages.RouteRouted},
			{user: "bob", text: "!slow", want: messages.RouteBlockedCooldown, reason: "cooldown"},
			{user: "carol", text: "!slow", want: messages.RouteRouted},
			{user: "bob", text: "!slow", want: messages.RouteRouted, advance: 31 * time.Second},
		}, 3},
		{"disabled command", []step{{user: "alice", text: "!off", want: messages.RouteIgnored, reason: "command disabled"}}, 0},
		{"ignored user, any case", []step{{user: "troll", text: "!echo", want: messages.RouteIgnored, reason: "ignored user"}}, 0},
		{"user rate limit", []step{
			{user: "spammer", text: "!echo 1", want: messages.RouteRouted},
			{user: "spammer", text: "!echo 2", want: messages.RouteRouted},
			{user: "spammer", text: "!echo 3", want: messages.RouteBlockedCooldown, reason: "user rate limit"},
			{user: "spammer", text: "!echo 4", want: messages.RouteRouted, advance: 61 * time.Second},
		}, 3},
		{"PM command", []step{{user: "pmuser", text: "!echo psst", pm: true, want: messages.RouteRouted}}, 1},
		{"chat-only command by PM", []step{{user: "pmuser", text: "!chatonly", pm: true, want: messages.RouteIgnored, reason: "not allowed in PM"}}, 0},
		{"our own echo", []step{{user: "DAZBOT", text: "!echo me", want: messages.RouteIgnored, reason: "own message"}}, 0},
	}
	for i, tt := range tests {
		// Cases share one EventFilter and run in order; each uses its own users.
		t.Run(tt.name, func(t *testing.T) {
			marker := fmt.Sprintf("marker%d", i)
			before := len(e.got.all())
			for _, s := range tt.steps {
				if s.advance > 0 {
					e.fake.Advance(s.advance)
				}
				n := 0
				for _, r := range e.Routes() {
					if r.User == s.user {
						n++
					}
				}
				if s.pm {
					e.PM(s.user, s.text)
				} else {
					e.Chat(s.user, s.text)
				}
				if s.want == "" {
					continue
				}
				r := e.waitRoute(s.user, n+1)
				if r.Decision != s.want || (s.reason != "" && r.Reason != s.reason) {
					t.Fatalf("%q by %s: decision %s (%q), want %s (%q)", s.text, s.user, r.Decision, r.Reason, s.want, s.reason)
				}
			}
			// A marker behind the case's events: once routed, they were all handled.
			e.Chat(marker, "!echo marker "+tt.name)
			actortest.CheckFor(t, plugintest.Wait, "marker", func() bool {
				cs := e.got.all()
				return len(cs) > 0 && cs[len(cs)-1].ArgText == "marker "+tt.name
			})
			if got := len(e.got.all()) - before - 1; got != tt.commands {
				t.Fatalf("probe got %d commands, want %d: %+v", got, tt.commands, e.got.all()[before:])
			}
		})
	}
}

func TestCommandCarriesArgumentsRankAndPM(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Join(messages.User{Name: "Alice", Rank: 1.5})
	e.PM("Alice", "!Say  hello   world ")
	actortest.CheckFor(t, plugintest.Wait, "command", func() bool { return len(e.got.all()) == 1 })
	c := e.got.all()[0]
	want := messages.Command{Channel: plugintest.Channel, Name: "echo", Invoked: "Say", Args: []string{"hello", "world"},
		ArgText: "hello   world", User: "Alice", Rank: 1.5, PM: true}
	c.At = time.Time{}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Fatalf("command = %+v\nwant      %+v", c, want)
	}
}

func TestRankRefusalIsPoliteAndRare(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Join(messages.User{Name: "alice", Rank: 1})
	e.Chat("alice", "!mod")
	got := e.WaitSaid("needs rank 2")
	if got.PM || !strings.Contains(got.Msg, "alice") {
		t.Fatalf("refusal %+v", got)
	}
	for range 3 {
		e.Chat("alice", "!mod")
	}
	e.waitRoute("alice", 4)
	e.PM("alice", "!mod")
	e.waitRoute("alice", 5)
	e.fake.Advance(31 * time.Second)
	e.PM("alice", "!mod")
	e.waitRoute("alice", 6)
	said := e.WaitCount(2)
	if len(said) != 2 || !said[1].PM || said[1].To != "alice" {
		t.Fatalf("want one refusal in chat and, after the refusal cooldown, one by PM; got %+v", said)
	}
}

func TestRanksFollowServerEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Join(messages.User{Name: "alice", Rank: 1})
	e.Chat("alice", "!mod")
	if r := e.waitRoute("alice", 1); r.Decision != messages.RouteBlockedRank {
		t.Fatalf("rank 1: %s", r.Decision)
	}
	e.Send("setUserRank", &messages.SetUserRank{Name: "ALICE", Rank: 2})
	e.Chat("alice", "!mod")
	if r := e.waitRoute("alice", 2); r.Decision != messages.RouteRouted {
		t.Fatalf("after setUserRank 2: %s", r.Decision)
	}
	e.UserLeave("alice")
	e.AddUser("alice", 1)
	e.Chat("alice", "!mod")
	if r := e.waitRoute("alice", 3); r.Decision != messages.RouteBlockedRank {
		t.Fatalf("rejoined at rank 1: %s", r.Decision)
	}
}

// TestJoinBacklogIsNeverAnswered replays a join burst the way the server
// sends it: old chat lines (including our own and a !command) before the
// userlist, with their original times.
func TestJoinBacklogIsNeverAnswered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := e.fake.Now()
	old := func(user, text string, age time.Duration) *messages.ChatMsg {
		return &messages.ChatMsg{Username: user, Msg: text, Text: text, Meta: json.RawMessage(`{}`), Time: now.Add(-age).UnixMilli()}
	}
	e.Join()
	e.Chat("alice", "!echo live before")
	e.waitRoute("alice", 1)

	e.NewSocket()
	e.Send("setPermissions", &messages.SetPermissions{})
	e.Send("chatMsg", old("alice", "!echo from an hour ago", time.Hour))
	e.Send("chatMsg", old("alice", "!echo from a second ago", time.Second))
	e.Send("chatMsg", old(plugintest.Bot, "!echo my own old line", time.Minute))
	e.Send("userlist", &messages.UserList{Users: []messages.User{{Name: "alice", Rank: 1}}})
	// After the userlist, a line stamped well before our join is still backlog.
	e.Send("chatMsg", old("alice", "!echo stale", time.Minute))
	e.Chat("alice", "!echo live after")
	r := e.waitRoute("alice", 5)
	if r.Decision != messages.RouteRouted {
		t.Fatalf("live command after the burst: %s (%s)", r.Decision, r.Reason)
	}
	var backlog int
	for _, x := range e.Routes() {
		if x.Reason == "join backlog" {
			backlog++
		}
	}
	if backlog != 4 {
		t.Fatalf("%d decisions said join backlog, want 4: %+v", backlog, e.Routes())
	}
	// The decision is recorded before the plugin has the command; the last
	// line's arrival means every earlier one the filter passed on arrived.
	actortest.CheckFor(t, plugintest.Wait, "the live command after the burst", func() bool {
		cs := e.got.all()
		return len(cs) > 0 && cs[len(cs)-1].ArgText == "live after"
	})
	cs := e.got.all()
	if len(cs) != 2 || cs[0].ArgText != "live before" || cs[1].ArgText != "live after" {
		t.Fatalf("probe got %+v, want only the two live commands", cs)
	}
}

// TestClockSkewTolerated: a live line whose server time is a few seconds
// behind our clock (server clock slow) is still answered.
func TestClockSkewTolerated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Join(messages.User{Name: "alice", Rank: 1})
	e.Send("chatMsg", &messages.ChatMsg{Username: "alice", Msg: "!echo skew", Text: "!echo skew",
		Time: e.fake.Now().Add(-3 * time.Second).UnixMilli()})
	if r := e.waitRoute("alice", 1); r.Decision != messages.RouteRouted {
		t.Fatalf("3 s of server clock lag: %s (%s)", r.Decision, r.Reason)
	}
}

// logBuffer collects JSON log records from several goroutines.
type logBuffer struct{ actortest.LogBuffer }

func (b *logBuffer) records(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(b.String(), "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil && r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// TestEveryRefusalIsAnsweredOnceAndLogged: whatever turns a known command
// down — cooldown, the per-user rate limit, the operator disabling it, PM
// not allowed, rank, the plugin itself (its database is away) — the user is
// told why once per window and the operator finds it in the log at info.
func TestEveryRefusalIsAnsweredOnceAndLogged(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	e := newLoggedEnv(t, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})), seedLimit)
	e.Join(messages.User{Name: "alice", Rank: 1}, messages.User{Name: "bob", Rank: 1},
		messages.User{Name: "spammer", Rank: 1}, messages.User{Name: "carol", Rank: 1},
		messages.User{Name: "pmuser", Rank: 1}, messages.User{Name: "dave", Rank: 1})
	tests := []struct {
		name    string
		user    string
		pm      bool
		ok      []string      // commands that run first
		advance time.Duration // then the clock moves
		refused string        // then this is sent twice
		command string
		reason  string
		answer  string
	}{
		{"cooldown", "bob", false, []string{"!slow"}, 12 * time.Second, "!slow", "slow", "cooldown", "Wait 18 s before !slow again, bob."},
		{"rate limit", "spammer", false, []string{"!echo 1", "!echo 2"}, 20 * time.Second, "!echo 3", "echo", "user rate limit",
			"Slow down, spammer — try again in 40 s."},
		{"disabled by the operator", "alice", false, nil, 0, "!off", "off", "command disabled", "Sorry alice, !off is turned off here."},
		{"not allowed in PM", "pmuser", true, nil, 0, "!chatonly", "chatonly", "not allowed in PM", "!chatonly only works in the channel chat."},
		{"rank", "dave", false, nil, 0, "!mod", "mod", "rank 1 below 2", "Sorry dave, !mod needs rank 2 (moderator)."},
		{"plugin cannot serve it", "carol", false, nil, 0, "!echo refuse", "echo", "database unavailable: test", "The database is away, carol."},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			said := len(e.Said())
			send := func(text string) {
				if tt.pm {
					e.PM(tt.user, text)
				} else {
					e.Chat(tt.user, text)
				}
			}
			for _, c := range tt.ok {
				send(c)
			}
			if len(tt.ok) > 0 {
				e.waitRoute(tt.user, len(tt.ok))
			}
			e.fake.Advance(tt.advance)
			send(tt.refused)
			send(tt.refused)
			e.waitRoute(tt.user, len(tt.ok)+2)
			// Everything the probe and the EventFilter had to say is out
			// once a marker command came back and a sentinel went through
			// the recorder behind it.
			marker := fmt.Sprintf("marker%d", i)
			e.Chat(marker, "!echo x")
			actortest.CheckFor(t, plugintest.Wait, "marker", func() bool {
				cs := e.got.all()
				return len(cs) > 0 && cs[len(cs)-1].User == marker
			})
			e.waitTable(func([]messages.CommandInfo) bool { return true })
			e.Sys.Send(e.Deps.Outbound, &messages.SendChat{Msg: "sentinel " + marker})
			e.WaitSaid("sentinel " + marker)
			var answers []plugintest.Said
			for _, s := range e.Said()[said:] {
				if !strings.HasPrefix(s.Msg, "sentinel ") {
					answers = append(answers, s)
				}
			}
			if len(answers) != 1 || answers[0].Msg != tt.answer || answers[0].PM != tt.pm {
				t.Fatalf("answers %+v, want exactly one %q (pm %v)", answers, tt.answer, tt.pm)
			}
			var logged []map[string]any
			for _, r := range logs.records("command refused") {
				if r["user"] == tt.user {
					logged = append(logged, r)
				}
			}
			if len(logged) != 1 || logged[0]["level"] != "INFO" || logged[0]["command"] != tt.command ||
				logged[0]["reason"] != tt.reason || logged[0]["channel"] != plugintest.Channel {
				t.Fatalf("log records %v, want one at info with command %q, reason %q", logged, tt.command, tt.reason)
			}
		})
	}
}
