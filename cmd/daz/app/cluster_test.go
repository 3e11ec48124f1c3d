package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/ownership"
	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// testFailover is the group's failover timeout in these tests: short, so
// quarantines and hand-overs take seconds, yet long enough that a loaded
// machine does not fence a healthy daemon.
const testFailover = 8 * time.Second

// group is one sandbox, one database and the daemons sharing them.
type group struct {
	sb       *sandbox.Server
	dbURL    string
	pool     *pgxpool.Pool
	channels []string
}

// daemon is one in-process daz of a group; every database connection it
// makes goes through its own fault proxy.
type daemon struct {
	name   string
	app    *app.App
	proxy  *pgtest.FaultProxy
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func newGroup(t *testing.T, n int) *group {
	t.Helper()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("grp%02d", i)
	}
	sb, err := sandbox.New(sandbox.Options{Addr: "127.0.0.1:0", Channels: names, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := sb.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = sb.Close() })
	dbURL := pgtest.New(t)
	// Migrated once up front, so daemons starting together do not queue
	// behind each other's migration lock.
	if _, err := migrations.Up(context.Background(), dbURL); err != nil {
		t.Fatal(err)
	}
	return &group{sb: sb, dbURL: dbURL, pool: pgtest.Pool(t, dbURL), channels: names}
}

func (g *group) options(t *testing.T, node, dbURL string) app.Options {
	opts := app.Options{
		DatabaseURL: app.Secret(dbURL),
		DebugAddr:   "127.0.0.1:0",
		DataDir:     t.TempDir(),
		Logger:      actortest.Logger(t, slog.LevelWarn).With(slog.String("node", node)),
		Version:     "cluster",
		Web:         app.WebOptions{Addr: ""},
		Cluster:     app.ClusterOptions{NodeName: node, FailoverTimeout: testFailover},
	}
	for _, name := range g.channels {
		opts.Channels = append(opts.Channels, app.ChannelOptions{Name: name, ServerURL: g.sb.URL(), Username: "dazbot", Password: "dazbot"})
	}
	return opts
}

func (g *group) start(t *testing.T, node string) *daemon {
	t.Helper()
	proxy := pgtest.NewFaultProxy(t, g.dbURL)
	a, err := app.New(g.options(t, node, proxy.URL(t, g.dbURL)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{name: node, app: a, proxy: proxy, cancel: cancel, done: make(chan error, 1)}
	go func() { d.done <- a.Run(ctx) }()
	select {
	case <-a.Started():
	case err := <-d.done:
		t.Fatalf("%s did not start: %v", node, err)
	}
	t.Cleanup(func() { _ = d.stop() })
	return d
}

// stop is a graceful stop (SIGTERM).
func (d *daemon) stop() error {
	d.once.Do(func() {
		d.cancel()
		d.err = <-d.done
	})
	return d.err
}

// online lists the channels online on this daemon.
func (d *daemon) online(channels []string) map[string]bool {
	out := map[string]bool{}
	for _, name := range channels {
		if st, ok := d.app.ChannelState(name); ok && st.State == messages.StateOnline {
			if _, running := d.app.System().Tree().PID("daz/channels/" + name + "/connection"); running {
				out[name] = true
			}
		}
	}
	return out
}

// lockOwners reads pg_locks the way an operator would: channel → node.
func (g *group) lockOwners(t *testing.T) map[string]string {
	t.Helper()
	rows, err := g.pool.Query(context.Background(), `
		SELECT c.name, coalesce(a.application_name, '')
		FROM unnest($1::text[]) AS c(name)
		LEFT JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid = $2::int4::oid AND l.objid = hashtext(c.name)::oid
		LEFT JOIN pg_stat_activity a ON a.pid = l.pid`, g.channels, ownership.LockClass)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, app string
		if err := rows.Scan(&name, &app); err != nil {
			t.Fatal(err)
		}
		if len(app) > len(ownership.AppNamePrefix) {
			out[name] = app[len(ownership.AppNamePrefix):]
		} else {
			out[name] = ""
		}
	}
	return out
}

// watchDoubles polls every daemon until stop and records any channel
// online on two of them at once.
func watchDoubles(g *group, daemons []*daemon) (stop func() []string) {
	var mu sync.Mutex
	var doubles []string
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-time.After(20 * time.Millisecond):
			}
			seen := map[string]string{}
			for _, d := range daemons {
				for name := range d.online(g.channels) {
					if other, ok := seen[name]; ok {
						mu.Lock()
						doubles = append(doubles, fmt.Sprintf("%s on %s and %s", name, other, d.name))
						mu.Unlock()
					}
					seen[name] = d.name
				}
			}
		}
	}()
	return func() []string {
		close(quit)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return doubles
	}
}

// spread waits until every channel is online on exactly one daemon and no
// daemon holds more than ⌈channels / daemons⌉ + 1, and returns who runs
// what.
func spread(t *testing.T, g *group, daemons []*daemon, timeout time.Duration) map[string][]string {
	t.Helper()
	share := (len(g.channels) + len(daemons) - 1) / len(daemons)
	var by map[string][]string
	actortest.CheckFor(t, timeout, "every channel online on one daemon, within the share", func() bool {
		by = map[string][]string{}
		count := map[string]int{}
		for _, d := range daemons {
			for name := range d.online(g.channels) {
				by[d.name] = append(by[d.name], name)
				count[name]++
			}
		}
		for _, name := range g.channels {
			if count[name] != 1 {
				return false
			}
		}
		for _, d := range daemons {
			if len(by[d.name]) > share+1 {
				return false
			}
		}
		return true
	})
	for _, chs := range by {
		sort.Strings(chs)
	}
	return by
}

// chatter says numbered lines in the channels until stopped, at most max
// per channel (the join backlog replays 15).
func chatter(g *group, channels []string, max int) (stop func() map[string][]string) {
	said := map[string][]string{}
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < max; i++ {
			for _, ch := range channels {
				line := fmt.Sprintf("moveline-%s-%d", ch, i)
				if g.sb.Say(ch, "alice", line) == nil {
					said[ch] = append(said[ch], line)
				}
			}
			select {
			case <-quit:
				return
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
	return func() map[string][]string {
		select {
		case <-quit:
		default:
			close(quit)
		}
		<-done
		return said
	}
}

// loggedOnce waits until every line said is in the chat log, then checks
// none is there twice.
func loggedOnce(t *testing.T, g *group, said map[string][]string) {
	t.Helper()
	var lines []string
	for _, ls := range said {
		lines = append(lines, ls...)
	}
	count := func() map[string]int {
		rows, err := g.pool.Query(context.Background(), `SELECT message, count(*) FROM daz_core_chat_log
			WHERE event_type = 'chatMsg' AND message = ANY($1) GROUP BY message`, lines)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var m string
			var n int
			if err := rows.Scan(&m, &n); err != nil {
				t.Fatal(err)
			}
			out[m] = n
		}
		return out
	}
	var got map[string]int
	actortest.CheckFor(t, 60*time.Second, fmt.Sprintf("all %d lines said during the move logged", len(lines)), func() bool {
		got = count()
		return len(got) == len(lines)
	})
	for m, n := range got {
		if n != 1 {
			t.Errorf("%q logged %d times, want once", m, n)
		}
	}
}

func noDuplicateLogins(t *testing.T, g *group, daemons []*daemon, doubles []string) {
	t.Helper()
	if n := g.sb.DuplicateLogins(); n != 0 {
		t.Errorf("the sandbox saw %d duplicate logins of the bot, want 0", n)
	}
	for _, d := range daemons {
		if rep := d.app.Cluster(); rep.DuplicateLogins != 0 {
			t.Errorf("%s counted %d duplicate-login kicks", d.name, rep.DuplicateLogins)
		}
	}
	if len(doubles) > 0 {
		t.Errorf("channels online on two daemons at once: %v", doubles[:min(len(doubles), 5)])
	}
}

func clusterReport(d *daemon) messages.ClusterStatus {
	v, _ := d.app.System().Tree().State("daz/" + app.OwnershipName)
	st, _ := v.(messages.ClusterStatus)
	return st
}

// Cut one daemon off the database: it fences (stops its channels) before
// anyone else takes them; the others have them online within the failover
// timeout; every line said meanwhile is logged once; never two sessions.
func TestGroupFailoverWhenADaemonLosesTheDatabase(t *testing.T) {
	g := newGroup(t, 30)
	daemons := []*daemon{g.start(t, "node-a"), g.start(t, "node-b"), g.start(t, "node-c")}
	stopWatch := watchDoubles(g, daemons)
	by := spread(t, g, daemons, 120*time.Second)
	t.Logf("spread: a=%d b=%d c=%d", len(by["node-a"]), len(by["node-b"]), len(by["node-c"]))
	victim := daemons[2]
	moved := by[victim.name]
	stopChat := chatter(g, moved, 12)

	cutAt := time.Now()
	victim.proxy.Cut()
	actortest.CheckFor(t, 30*time.Second, "the cut daemon fences", func() bool {
		return len(victim.online(g.channels)) == 0
	})
	fencedIn := time.Since(cutAt)
	actortest.CheckFor(t, 60*time.Second, "the cut daemon's channels online on the others", func() bool {
		up := map[string]bool{}
		for _, d := range daemons[:2] {
			for name := range d.online(g.channels) {
				up[name] = true
			}
		}
		for _, name := range moved {
			if !up[name] {
				return false
			}
		}
		return true
	})
	movedIn := time.Since(cutAt)
	t.Logf("%d channels: fenced after %s, online elsewhere after %s (failover timeout %s)", len(moved), fencedIn, movedIn, testFailover)
	said := stopChat()
	if clusterReport(victim).Fences == 0 {
		t.Error("the cut daemon counted no fence")
	}
	// Back on the network, its writer flushes what it read before the cut.
	victim.proxy.Restore()
	loggedOnce(t, g, said)
	noDuplicateLogins(t, g, daemons, stopWatch())
}
