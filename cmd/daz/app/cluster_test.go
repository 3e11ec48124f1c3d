package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/ownership"
	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/cmd/daz/channelreg"
	"github.com/daz-bot/daz/cmd/daz/debugserver"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// testFailover is the group's failover timeout in these tests: short, so
// quarantines and hand-overs take seconds, yet long enough that a loaded
// machine does not fence a healthy daemon.
const testFailover = 10 * time.Second

// group is one sandbox, one database and the daemons sharing them.
type group struct {
	sb       *sandbox.Server
	dbURL    string
	pool     *pgxpool.Pool
	channels []string
	// webNodes are the daemons started with their web server on.
	webNodes map[string]bool
	// mutate, when set, adjusts every daemon's options (after the group's).
	mutate func(node string, o *app.Options)
}

// member is one in-process daz of a group; every database connection it
// makes goes through its own fault proxy.
type member struct {
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
		Logger:      actortest.Logger(t, slog.LevelInfo).With(slog.String("node", node)),
		Version:     "cluster",
		Web:         app.WebOptions{Addr: webAddr(g.webNodes[node])},
		Cluster:     app.ClusterOptions{NodeName: node, FailoverTimeout: testFailover},
		Environ:     []string{"DAZ_TEST_BOT_PASSWORD=dazbot"},
		// Room for every channel of the group on each daemon: the per-server
		// limits have tests of their own, here a survivor must be able to
		// take a dead daemon's channels.
		ServerLimits: app.ServerLimitOptions{MaxConnections: 100, ConnectBurst: 100, ConnectInterval: 10 * time.Millisecond},
	}
	for _, name := range g.channels {
		opts.Channels = append(opts.Channels, app.ChannelOptions{Name: name, ServerURL: g.sb.URL(), Username: "dazbot", Password: "dazbot"})
	}
	if g.mutate != nil {
		g.mutate(node, &opts)
	}
	return opts
}

func webAddr(on bool) string {
	if on {
		return "127.0.0.1:0"
	}
	return ""
}

func (g *group) start(t *testing.T, node string) *member {
	t.Helper()
	d, err := g.launch(t, node)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// startQuiet is start for other goroutines than the test's: it reports a
// failed start with t.Error and returns nil.
func (g *group) startQuiet(t *testing.T, node string) *member {
	d, err := g.launch(t, node)
	if err != nil {
		t.Error(err)
	}
	return d
}

func (g *group) launch(t *testing.T, node string) (*member, error) {
	proxy := pgtest.NewFaultProxy(t, g.dbURL)
	a, err := app.New(g.options(t, node, proxy.URL(t, g.dbURL)))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &member{name: node, app: a, proxy: proxy, cancel: cancel, done: make(chan error, 1)}
	go func() { d.done <- a.Run(ctx) }()
	select {
	case <-a.Started():
	case err := <-d.done:
		return nil, fmt.Errorf("%s did not start: %w", node, err)
	}
	t.Cleanup(func() { _ = d.stop() })
	return d, nil
}

// stop is a graceful stop (SIGTERM).
func (d *member) stop() error {
	d.once.Do(func() {
		d.cancel()
		d.err = <-d.done
	})
	return d.err
}

// online lists the channels online on this daemon.
func (d *member) online(channels []string) map[string]bool {
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
func watchDoubles(g *group, daemons []*member, extra ...string) (stop func() []string) {
	names := append(slices.Clone(g.channels), extra...)
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
				for name := range d.online(names) {
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
func spread(t *testing.T, g *group, daemons []*member, timeout time.Duration) map[string][]string {
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

func noDuplicateLogins(t *testing.T, g *group, daemons []*member, doubles []string) {
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

func clusterReport(d *member) messages.ClusterStatus {
	v, _ := d.app.System().Tree().State("daz/" + app.OwnershipName)
	st, _ := v.(messages.ClusterStatus)
	return st
}

// Cut one daemon off the database: it fences (stops its channels) before
// anyone else takes them; the others have them online within the failover
// timeout; every line said meanwhile is logged once; never two sessions.
func TestGroupFailoverWhenADaemonLosesTheDatabase(t *testing.T) {
	g := newGroup(t, 30)
	daemons := []*member{g.start(t, "node-a"), g.start(t, "node-b"), g.start(t, "node-c")}
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

// The real binary, killed with SIGKILL: nothing of it runs its shutdown,
// its lock session dies with the process. Its channels are online on the
// other daemons within the failover timeout, every line said meanwhile is
// logged once (the join backlog refills the gap), and the sandbox never saw
// two sessions of the bot in one channel.
func TestGroupFailoverWhenADaemonIsKilled(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "daz")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/daz-bot/daz/cmd/daz").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	g := newGroup(t, 30)
	var yaml strings.Builder
	yaml.WriteString("cytube:\n  channels:\n")
	for _, name := range g.channels {
		fmt.Fprintf(&yaml, "    - {name: %s, server_url: %q, username: dazbot, password: dazbot}\n", name, g.sb.URL())
	}
	cfgPath := filepath.Join(t.TempDir(), "daz.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	debugAddr := freeAddr(t)
	cmd := exec.Command(bin, "run", "-config", cfgPath)
	cmd.Env = []string{
		"DAZ_DATABASE_URL=" + g.dbURL, "DAZ_DEBUG_ADDR=" + debugAddr, "DAZ_WEB_ADDR=127.0.0.1:0",
		"DAZ_DATA_DIR=" + t.TempDir(), "DAZ_LOG_FORMAT=json", "DAZ_LOG_LEVEL=warn",
		"DAZ_NODE_NAME=node-k", "DAZ_CLUSTER_FAILOVER_TIMEOUT=" + testFailover.String(),
		"DAZ_CYTUBE_MAX_CONNECTIONS_PER_SERVER=100", "DAZ_CYTUBE_CONNECT_BURST=100", "DAZ_CYTUBE_CONNECT_INTERVAL=10ms",
	}
	var logs actortest.LogBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	daemons := []*member{g.start(t, "node-a"), g.start(t, "node-b")}
	stopWatch := watchDoubles(g, daemons)
	var owners map[string]string
	actortest.CheckFor(t, 120*time.Second, "30 channels spread over three daemons", func() bool {
		owners = g.lockOwners(t)
		count := map[string]int{}
		for _, o := range owners {
			count[o]++
		}
		// Near an even spread (the binary starts first, so it hands
		// channels over as the others join), so the kill moves many.
		if count[""] > 0 || count["node-a"] < 8 || count["node-b"] < 8 || count["node-k"] < 8 {
			return false
		}
		for _, d := range daemons {
			if len(d.online(g.channels)) != count[d.name] {
				return false
			}
		}
		return true
	})
	var moved []string
	for name, o := range owners {
		if o == "node-k" {
			moved = append(moved, name)
		}
	}
	sort.Strings(moved)
	t.Logf("the binary owns %d channels: %v", len(moved), moved)
	actortest.CheckFor(t, 60*time.Second, "the binary's /readyz", func() bool {
		res, err := http.Get("http://" + debugAddr + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	stopChat := chatter(g, moved, 12)

	killedAt := time.Now()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed = true
	_ = cmd.Wait()
	actortest.CheckFor(t, 60*time.Second, "the killed daemon's channels online on the others", func() bool {
		up := map[string]bool{}
		for _, d := range daemons {
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
	t.Logf("%d channels online on the others %s after SIGKILL (failover timeout %s)", len(moved), time.Since(killedAt), testFailover)
	said := stopChat()
	loggedOnce(t, g, said)
	noDuplicateLogins(t, g, daemons, stopWatch())
	if t.Failed() {
		t.Logf("binary's log:\n%s", logs.String())
	}
}

// Two daemons started at the same instant: every channel is taken by one of
// them, never both.
func TestGroupSimultaneousStartOwnsEachChannelOnce(t *testing.T) {
	g := newGroup(t, 20)
	var wg sync.WaitGroup
	daemons := make([]*member, 2)
	gate := make(chan struct{})
	for i := range daemons {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			daemons[i] = g.startQuiet(t, fmt.Sprintf("node-%d", i))
		}()
	}
	close(gate)
	wg.Wait()
	for _, d := range daemons {
		if d == nil {
			t.Fatal("a daemon did not start")
		}
	}
	stopWatch := watchDoubles(g, daemons)
	by := spread(t, g, daemons, 120*time.Second)
	t.Logf("spread: %d / %d", len(by["node-0"]), len(by["node-1"]))
	noDuplicateLogins(t, g, daemons, stopWatch())
	// The debug endpoint tells the same story over HTTP.
	d := daemons[0]
	var rep debugserver.ClusterReport
	actortest.CheckFor(t, 30*time.Second, "/debug/cluster lists both daemons and every owner", func() bool {
		if getJSON(t, "http://"+d.app.DebugAddr()+"/debug/cluster", &rep) != http.StatusOK || len(rep.Nodes) != 2 {
			return false
		}
		total := 0
		for _, n := range rep.Nodes {
			total += len(n.Channels)
		}
		return total == len(g.channels) && len(rep.Channels) == len(g.channels)
	})
	for _, c := range rep.Channels {
		if c.Owner == d.name && c.State != string(messages.StateOnline) {
			t.Errorf("/debug/cluster: %s owned here in state %q", c.Channel, c.State)
		}
	}
	// spread allows one channel over the share, so a hand-over may still
	// be under way: /readyz is compared with what node-0 has online at
	// the same moment, not with spread's earlier snapshot.
	var ready debugserver.Readiness
	var online []string
	matches := func() bool {
		if getJSON(t, "http://"+d.app.DebugAddr()+"/readyz", &ready) != http.StatusOK {
			return false
		}
		online = online[:0]
		for name := range d.online(g.channels) {
			online = append(online, name)
		}
		sort.Strings(online)
		sort.Strings(ready.Owned)
		return strings.Join(ready.Owned, ",") == strings.Join(online, ",") && len(ready.Channels) == len(ready.Owned)
	}
	if !actortest.WaitFor(30*time.Second, matches) {
		t.Fatalf("/readyz owned %v (%d channels), want what node-0 has online: %v", ready.Owned, len(ready.Channels), online)
	}
}

// A daemon joining a group takes its share while the others hand channels
// over one at a time: at no moment are two channels without an owner.
func TestGroupNewDaemonTakesItsShareOneChannelAtATime(t *testing.T) {
	g := newGroup(t, 12)
	daemons := []*member{g.start(t, "node-a"), g.start(t, "node-b")}
	stopWatch := watchDoubles(g, daemons[:2])
	spread(t, g, daemons, 120*time.Second)

	var mu sync.Mutex
	maxFree := 0
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-time.After(20 * time.Millisecond):
			}
			free := 0
			for _, o := range g.lockOwners(t) {
				if o == "" {
					free++
				}
			}
			mu.Lock()
			maxFree = max(maxFree, free)
			mu.Unlock()
		}
	}()
	daemons = append(daemons, g.start(t, "node-c"))
	actortest.CheckFor(t, 120*time.Second, "4 / 4 / 4", func() bool {
		for _, d := range daemons {
			if len(d.online(g.channels)) != 4 {
				return false
			}
		}
		return true
	})
	close(quit)
	<-done
	if maxFree > 1 {
		t.Errorf("%d channels were without an owner at once while the group rebalanced, want at most 1", maxFree)
	}
	noDuplicateLogins(t, g, daemons, stopWatch())
}

// A database that refuses the daemon's role stops it at start-up with a
// configuration error (exit 2) before it takes or connects anything.
func TestRefusedDatabaseLoginStopsBeforeTakingAnything(t *testing.T) {
	g := newGroup(t, 2)
	u, err := url.Parse(g.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("daz_no_such_role", "wrong")
	a, err := app.New(g.options(t, "node-x", u.String()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = a.Run(ctx)
	var ce *app.ConfigError
	if !errors.As(err, &ce) || ce.Key != "database.url" {
		t.Fatalf("Run = %v, want a database.url ConfigError", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("the error shows the password: %v", err)
	}
	if n := g.sb.Connections(); n != 0 {
		t.Fatalf("the sandbox saw %d connections from a daemon that could not log in to the database", n)
	}
	for ch, o := range g.lockOwners(t) {
		if o != "" {
			t.Fatalf("%s is owned by %s", ch, o)
		}
	}
}

// Retry state, cooldowns and stops belong to the channel: a channel stopped
// for a ban on one daemon stays stopped, for the same reason and without a
// connection, on the daemon that takes it over after a graceful stop
// (SIGTERM hands the channels over once the writer has flushed).
func TestMovedChannelKeepsItsPersistedStop(t *testing.T) {
	g := newGroup(t, 2)
	const reason = "banned: You're banned!"
	if _, err := g.pool.Exec(context.Background(), `INSERT INTO daz_core_retry_state (channel, last_error, stopped_reason)
		VALUES ('grp00', $1, $1)`, reason); err != nil {
		t.Fatal(err)
	}
	a := g.start(t, "node-a")
	stoppedOn := func(d *member) bool {
		st, ok := d.app.ChannelState("grp00")
		_, connected := d.app.System().Tree().PID("daz/channels/grp00/connection")
		return ok && st.State == messages.StateStopped && st.Reason == reason && !connected
	}
	actortest.CheckFor(t, 60*time.Second, "grp00 stopped and grp01 online on node-a", func() bool {
		return stoppedOn(a) && a.online(g.channels)["grp01"]
	})
	b := g.start(t, "node-b")
	actortest.CheckFor(t, 30*time.Second, "node-b live", func() bool { return len(clusterReport(a).Nodes) == 2 })
	stopAt := time.Now()
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Since(stopAt)
	actortest.CheckFor(t, 60*time.Second, "both channels on node-b, grp00 still stopped", func() bool {
		return stoppedOn(b) && b.online(g.channels)["grp01"]
	})
	t.Logf("graceful stop took %s; channels on node-b %s after the stop began", stopped, time.Since(stopAt))
	if n := g.sb.DuplicateLogins(); n != 0 {
		t.Errorf("%d duplicate logins", n)
	}
}

// A database restart ends every lock session at once: every daemon fences,
// then the group takes every channel again, each on one daemon.
func TestGroupSurvivesADatabaseRestart(t *testing.T) {
	g := newGroup(t, 12)
	daemons := []*member{g.start(t, "node-a"), g.start(t, "node-b")}
	stopWatch := watchDoubles(g, daemons)
	spread(t, g, daemons, 120*time.Second)
	// What a primary restart does to this database's sessions.
	if _, err := g.pool.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, 30*time.Second, "every daemon fenced", func() bool {
		for _, d := range daemons {
			if clusterReport(d).Fences == 0 {
				return false
			}
		}
		return true
	})
	spread(t, g, daemons, 120*time.Second)
	noDuplicateLogins(t, g, daemons, stopWatch())
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		return 0
	}
	return res.StatusCode
}

// A channel added to daz_channels while the group runs is taken by one
// daemon and goes online without a restart; disabled, it stops and nobody
// takes it.
func TestGroupFollowsTheChannelRegistry(t *testing.T) {
	g := newGroup(t, 4)
	g.webNodes = map[string]bool{"node-a": true}
	daemons := []*member{g.start(t, "node-a"), g.start(t, "node-b")}
	stopWatch := watchDoubles(g, daemons, "grpnew")
	// The web pages list the group's channels as the registry has them.
	webLists := func(name string) bool {
		var list struct {
			Channels []struct {
				Name string `json:"name"`
			} `json:"channels"`
		}
		if err := json.Unmarshal([]byte(fetch(t, daemons[0].app.WebURL()+"/api/v1/channels")), &list); err != nil {
			t.Fatal(err)
		}
		for _, c := range list.Channels {
			if c.Name == name {
				return true
			}
		}
		return false
	}
	if webLists("grpnew") {
		t.Fatal("the web lists grpnew before it was added")
	}
	spread(t, g, daemons, 60*time.Second)
	store := channelreg.NewStore(g.pool)
	added := time.Now()
	if err := store.Add(context.Background(), channelreg.Channel{Name: "grpnew", ServerURL: g.sb.URL(), Username: "dazbot",
		PasswordRef: "env:DAZ_TEST_BOT_PASSWORD", Enabled: true, Source: channelreg.SourceCLI}); err != nil {
		t.Fatal(err)
	}
	g.channels = append(g.channels, "grpnew")
	spread(t, g, daemons, 60*time.Second)
	t.Logf("the added channel was online %s after the insert", time.Since(added))
	actortest.CheckFor(t, 10*time.Second, "the web listing the added channel", func() bool { return webLists("grpnew") })
	if _, err := store.SetEnabled(context.Background(), "grpnew", false); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, 60*time.Second, "the disabled channel stopped everywhere and unowned", func() bool {
		for _, d := range daemons {
			if d.online(g.channels)["grpnew"] {
				return false
			}
		}
		return g.lockOwners(t)["grpnew"] == ""
	})
	actortest.CheckFor(t, 10*time.Second, "the web no longer listing the disabled channel", func() bool { return !webLists("grpnew") })
	noDuplicateLogins(t, g, daemons, stopWatch())
}
