package ownership

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/internal/testpg"
)

func testSession(t *testing.T, dbURL, node string) *session {
	t.Helper()
	s := &session{cfg: Config{Node: node, DatabaseURL: dbURL, Timings: TimingsFor(5 * time.Second)}}
	t.Cleanup(s.close)
	return s
}

func ownersOf(st status) map[string]string {
	out := map[string]string{}
	for _, c := range st.channels {
		out[c.name] = c.owner
	}
	return out
}

// A lock is held by one session at a time, pg_locks names its holder, and
// ending the session frees it for another.
func TestSessionLocksAreExclusiveAndDieWithTheSession(t *testing.T) {
	dbURL := testpg.NewMigrated(t)
	ctx := context.Background()
	a, b := testSession(t, dbURL, "node-a"), testSession(t, dbURL, "node-b")
	names := []string{"one", "two"}
	st, err := a.heartbeat(ctx, names)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.heartbeat(ctx, names); err != nil {
		t.Fatal(err)
	}
	keys := []int32{st.channels[0].key, st.channels[1].key}
	got, err := a.tryLock(ctx, keys[:1])
	if err != nil || len(got) != 1 {
		t.Fatalf("a took %v, %v", got, err)
	}
	got, err = b.tryLock(ctx, keys)
	if err != nil || len(got) != 1 || got[0] != keys[1] {
		t.Fatalf("b took %v (%v); want only the free key %d", got, err, keys[1])
	}
	st, err = b.heartbeat(ctx, names)
	if err != nil {
		t.Fatal(err)
	}
	if o := ownersOf(st); o["one"] != "node-a" || o["two"] != "node-b" {
		t.Fatalf("owners %v", o)
	}
	live := 0
	for _, n := range st.nodes {
		if n.live {
			live++
		}
	}
	if live != 2 {
		t.Fatalf("%d live nodes, want 2: %+v", live, st.nodes)
	}
	a.close()
	st, err = b.heartbeat(ctx, names)
	if err != nil {
		t.Fatal(err)
	}
	if o := ownersOf(st); o["one"] != "" {
		t.Fatalf("the closed session still owns one: %v", o)
	}
	for _, n := range st.nodes {
		if n.name == "node-a" && n.live {
			t.Fatal("node-a is live without a session")
		}
	}
	if got, err := b.tryLock(ctx, keys[:1]); err != nil || len(got) != 1 {
		t.Fatalf("b could not take the freed key: %v %v", got, err)
	}
}

// A graceful leave removes the node's row, so nobody waits a quarantine.
func TestSessionLeaveRemovesTheNode(t *testing.T) {
	dbURL := testpg.NewMigrated(t)
	ctx := context.Background()
	a, b := testSession(t, dbURL, "node-a"), testSession(t, dbURL, "node-b")
	if _, err := a.heartbeat(ctx, nil); err != nil {
		t.Fatal(err)
	}
	a.leave()
	st, err := b.heartbeat(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range st.nodes {
		if n.name == "node-a" {
			t.Fatalf("node-a still listed after leaving: %+v", n)
		}
	}
}

// A role the server refuses is a configuration error, not an outage.
func TestProbeTellsARefusedLoginFromAnOutage(t *testing.T) {
	dbURL := testpg.NewMigrated(t)
	u, _ := url.Parse(dbURL)
	u.User = url.UserPassword("daz_no_such_role", "x")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var authErr *AuthError
	if err := Probe(ctx, u.String()); !errors.As(err, &authErr) {
		t.Fatalf("refused role: %v, want an AuthError", err)
	}
	u, _ = url.Parse(dbURL)
	u.Host = "127.0.0.1:1"
	if err := Probe(ctx, u.String()); err == nil || errors.As(err, &authErr) {
		t.Fatalf("nothing listening: %v, want a plain error", err)
	}
	if err := Probe(ctx, dbURL); err != nil {
		t.Fatalf("good URL: %v", err)
	}
}
