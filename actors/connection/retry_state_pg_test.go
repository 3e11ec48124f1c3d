package connection_test

// These tests exercise supervision's PostgreSQL retry state together with
// the connection. They live here because the test helpers (testpg,
// the rig) are internal to actors/.

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/internal/testutil"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"
	"github.com/jackc/pgx/v5/pgxpool"
)

func closeStore(t *testing.T, s *supervision.PgRetryStore) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("close retry store: %v", err)
	}
}

// Restart the whole actor system in the middle of a cooldown against the
// same database: the new system makes no connection attempt before the
// persisted cooldown_until, then connects and the row is reset.
func TestRestartMidCooldownWaitsOutThePersistedCooldown(t *testing.T) {
	t.Parallel()
	pool := testpg.Pool(t, testpg.NewMigrated(t))
	srv := sandboxtest.Start(t, sandbox.Options{})
	srv.SetRefuse(true)
	conn := connection.Config{Channel: "testchan", ServerURL: srv.URL(), Username: "dazbot", Password: "pw"}
	retry := supervision.RetryConfig{Base: 2 * time.Second, MaxDelay: 5 * time.Minute, Attempts: 2, Cooldown: 30 * time.Minute, Jitter: 0.2}

	store1 := supervision.NewPgRetryStore(pool, nil)
	rig1 := NewRig(t, RigConfig{Conn: conn, Retry: retry, Store: store1})
	rig1.AdvanceTo(rig1.WaitState(t, messages.StateBackingOff, 1).Until)
	cool := rig1.WaitState(t, messages.StateCoolingDown, 1)
	rig1.Stop(t)
	closeStore(t, store1)

	var count int
	var until time.Time
	var lastErr string
	if err := pool.QueryRow(t.Context(),
		`SELECT retry_count, cooldown_until, last_error FROM daz_core_retry_state WHERE channel = $1`, "testchan").
		Scan(&count, &until, &lastErr); err != nil {
		t.Fatalf("persisted row: %v", err)
	}
	if count != 2 || !until.Equal(cool.Until) || !strings.Contains(lastErr, "discovery") {
		t.Fatalf("persisted count=%d until=%v error=%q; want 2, %v, a discovery error", count, until, lastErr, cool.Until)
	}

	// The daemon comes back ten minutes into the cooldown; the server works now.
	srv.SetRefuse(false)
	requests := srv.SocketConfigRequests()
	store2 := supervision.NewPgRetryStore(pool, nil)
	t.Cleanup(func() { closeStore(t, store2) })
	state, err := store2.Load(t.Context(), "testchan")
	if err != nil {
		t.Fatal(err)
	}
	rig2 := NewRig(t, RigConfig{
		Conn: conn, Retry: retry, Store: store2, Restore: &state,
		Clock: clock.NewFake(cool.At.Add(10 * time.Minute)),
	})
	waiting := rig2.WaitState(t, messages.StateCoolingDown, 1)
	if !waiting.Until.Equal(cool.Until) {
		t.Fatalf("after the restart waiting until %v, want %v", waiting.Until, cool.Until)
	}
	if node, ok := rig2.NodeState(); !ok || node.State != messages.StateCoolingDown {
		t.Fatalf("debug endpoint shows %+v", node)
	}
	if !strings.Contains(rig2.Logs.String(), "restored a cooldown") {
		t.Fatalf("no log line says when it will try again:\n%s", rig2.Logs.String())
	}
	rig2.AdvanceTo(cool.Until.Add(-time.Second))
	if got := srv.SocketConfigRequests(); got != requests || srv.Connections() != 0 {
		t.Fatalf("%d discovery requests and %d sockets before cooldown_until", got-requests, srv.Connections())
	}
	rig2.AdvanceTo(cool.Until)
	online := rig2.WaitState(t, messages.StateOnline, 1)
	if online.Attempt != 1 || srv.SocketConfigRequests() != requests+1 {
		t.Fatalf("online %+v after %d requests", online, srv.SocketConfigRequests()-requests)
	}
	testutil.CheckFor(t, wait, "row reset after the login", func() bool {
		var n int
		var cu *time.Time
		err := pool.QueryRow(t.Context(),
			`SELECT retry_count, cooldown_until FROM daz_core_retry_state WHERE channel = $1`, "testchan").Scan(&n, &cu)
		return err == nil && n == 0 && cu == nil
	})
}

// Restarted in the middle of a round, the count goes on and the backoff
// after the last attempt is kept.
func TestRestoreMidRoundContinuesTheCount(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandbox.Options{})
	srv.SetRefuse(true)
	lastAttempt := Epoch.Add(-5 * time.Second)
	rig := NewRig(t, RigConfig{
		Conn:    connection.Config{Channel: "testchan", ServerURL: srv.URL()},
		Restore: &supervision.RetryState{Channel: "testchan", RetryCount: 4, LastAttempt: lastAttempt, LastError: "closed: before"},
	})
	// Four failures: the fifth attempt waits 16 s after the last one.
	waiting := rig.WaitState(t, messages.StateBackingOff, 1)
	if want := lastAttempt.Add(16 * time.Second); !waiting.Until.Equal(want) || waiting.Attempt != 5 {
		t.Fatalf("restored wait %+v, want attempt 5 until %v", waiting, want)
	}
	rig.AdvanceTo(waiting.Until)
	st := rig.WaitState(t, messages.StateBackingOff, 2)
	if st.Attempt != 5 || st.Until.Sub(st.At) > 32*time.Second || st.Until.Sub(st.At) < 25600*time.Millisecond {
		t.Fatalf("fifth failure %+v, want a 32 s backoff less jitter", st)
	}
}

func TestPgRetryStoreRoundTrip(t *testing.T) {
	t.Parallel()
	pool := testpg.Pool(t, testpg.NewMigrated(t))
	store := supervision.NewPgRetryStore(pool, nil)
	at := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)
	full := supervision.RetryState{
		Channel: "full", RetryCount: 7, CooldownUntil: at.Add(30 * time.Minute), LastAttempt: at,
		LastError: `kicked: "quoted" 'text' ; DROP TABLE x`, StoppedReason: "banned: You're banned!",
		CredentialsFP: supervision.CredentialsFingerprint("https://cytu.be", "dazbot", "pw", ""),
	}
	store.Save(full)
	// Many saves of one channel: the newest wins.
	for i := 0; i <= 50; i++ {
		store.Save(supervision.RetryState{Channel: "busy", RetryCount: i, LastAttempt: at.Add(time.Duration(i) * time.Second)})
	}
	closeStore(t, store)

	reader := supervision.NewPgRetryStore(pool, nil)
	t.Cleanup(func() { closeStore(t, reader) })
	cases := []struct {
		channel string
		want    supervision.RetryState
	}{
		{"full", full},
		{"busy", supervision.RetryState{Channel: "busy", RetryCount: 50, LastAttempt: at.Add(50 * time.Second)}},
		{"never-seen", supervision.RetryState{Channel: "never-seen"}},
	}
	for _, tc := range cases {
		got, err := reader.Load(t.Context(), tc.channel)
		if err != nil {
			t.Fatalf("load %s: %v", tc.channel, err)
		}
		if !sameState(got, tc.want) {
			t.Fatalf("load %s = %+v, want %+v", tc.channel, got, tc.want)
		}
	}
}

func sameState(a, b supervision.RetryState) bool {
	return a.Channel == b.Channel && a.RetryCount == b.RetryCount && a.CooldownUntil.Equal(b.CooldownUntil) &&
		a.LastAttempt.Equal(b.LastAttempt) && a.LastError == b.LastError && a.StoppedReason == b.StoppedReason &&
		a.CredentialsFP == b.CredentialsFP
}

// With the database down, saving never holds the connection up: it logs,
// keeps the newest state, and the bot connects, fails and reconnects.
func TestDatabaseDownDoesNotStopTheConnection(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1 of loopback: every save fails at once.
	pool, err := pgxpool.New(t.Context(), "postgres://postgres@127.0.0.1:1/daz?connect_timeout=2&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	logs := &LogBuffer{}
	store := supervision.NewPgRetryStore(pool, slogTo(logs))
	srv := sandboxtest.Start(t, sandbox.Options{})
	rig := NewRig(t, RigConfig{
		Conn:  connection.Config{Channel: "testchan", ServerURL: srv.URL(), Username: "dazbot", Password: "pw"},
		Store: store,
	})
	rig.WaitState(t, messages.StateOnline, 1)
	if err := srv.Socket(1).Kick("testing kick"); err != nil {
		t.Fatal(err)
	}
	rig.AdvanceTo(rig.WaitState(t, messages.StateBackingOff, 1).Until)
	rig.WaitState(t, messages.StateOnline, 2)
	testutil.CheckFor(t, wait, "the save failure is logged", func() bool {
		return strings.Contains(logs.String(), "cannot save connection retry state")
	})
	rig.Stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := store.Close(ctx); err == nil {
		t.Fatal("closing with an unreachable database reported no error")
	} else if !strings.Contains(err.Error(), "testchan") {
		t.Fatalf("close error does not name the channel: %v", err)
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// switchedProxy forwards TCP connections to target while on; while off it
// refuses them and cuts the ones it carried, as a database restart would.
type switchedProxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	on     bool
	conns  []net.Conn
}

func newSwitchedProxy(t *testing.T, target string) *switchedProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchedProxy{l: l, target: target}
	t.Cleanup(func() { _ = l.Close(); p.set(false) })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			on := p.on
			p.mu.Unlock()
			if !on {
				_ = c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
			go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
		}
	}()
	return p
}

func (p *switchedProxy) set(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.on = on
	if !on {
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.conns = nil
	}
}

// The store keeps no schedule of its own: a state that could not be saved
// waits for the SQL writer's probe to say the database is back.
func TestWaitingStateIsSavedWhenTheDatabaseIsBack(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newSwitchedProxy(t, u.Host)
	u.Host = proxy.l.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	pool, err := pgxpool.New(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	logs := &LogBuffer{}
	store := supervision.NewPgRetryStore(pool, slogTo(logs))
	t.Cleanup(func() { closeStore(t, store) })

	store.Save(supervision.RetryState{Channel: "waitchan", RetryCount: 3, LastError: "dial: refused"})
	testutil.CheckFor(t, wait, "the failed save is logged", func() bool {
		return strings.Contains(logs.String(), "cannot save connection retry state")
	})
	proxy.set(true)
	direct := testpg.Pool(t, dbURL)
	saved := func() bool {
		var n int
		err := direct.QueryRow(t.Context(), `SELECT retry_count FROM daz_core_retry_state WHERE channel = 'waitchan'`).Scan(&n)
		return err == nil && n == 3
	}
	if saved() {
		t.Fatal("saved before anyone said the database was back")
	}
	store.DatabaseBack()
	testutil.CheckFor(t, wait, "the waiting state saved once the database is back", saved)
	testutil.CheckFor(t, wait, "recovery logged", func() bool {
		return strings.Contains(logs.String(), "connection retry state saved again")
	})
}
