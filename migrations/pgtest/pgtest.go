// Package pgtest gives each test its own throw-away PostgreSQL database on the
// real server, so database tests run in parallel without seeing each other.
// It does not know the schema (actors/internal/testpg adds migrations on
// top), so the migrations package's own tests can use it too.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AdminURLEnv names the variable that points tests at a PostgreSQL admin
// database other than DefaultAdminURL.
const AdminURLEnv = "DAZ_TEST_DATABASE_URL"

// DefaultAdminURL is the local trust-auth server CI and developers run.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const (
	setupTimeout   = 60 * time.Second
	connectTimeout = 5 * time.Second
	// PostgreSQL truncates identifiers to 63 bytes; a truncated name would
	// make DROP miss the database, so names are built to fit.
	maxIdentifierLen = 63
	namePrefix       = "daz_t_"
	randomHexLen     = 8
	maxTestNameLen   = maxIdentifierLen - len(namePrefix) - 1 - randomHexLen
)

// New creates an empty database for this test, drops it (closing any
// connections still open) when the test ends, and returns its URL.
func New(t testing.TB) (databaseURL string) {
	t.Helper()
	return newDatabase(t, AdminURL())
}

// Pool opens a connection pool on databaseURL that is closed when the test
// ends, before the database itself is dropped.
func Pool(t testing.TB, databaseURL string) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		t.Fatalf("pgtest: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("pgtest: ping test database: %v", err)
	}
	return pool
}

// AdminURL is the admin database tests create their databases from.
func AdminURL() string {
	if v := os.Getenv(AdminURLEnv); v != "" {
		return v
	}
	return DefaultAdminURL
}

func newDatabase(t testing.TB, adminURL string) string {
	t.Helper()
	base, err := url.Parse(adminURL)
	if err != nil || (base.Scheme != "postgres" && base.Scheme != "postgresql") {
		t.Fatalf("pgtest: %s must be a postgres:// URL, got %q", AdminURLEnv, redact(adminURL))
	}
	name := databaseName(t.Name(), randomHex())

	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	conn := connectAdmin(ctx, t, adminURL)
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()

	// template0 accepts no connections, so parallel CREATE DATABASE never
	// fails with "source database is being accessed by other users".
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, adminURL, name) })

	dbURL := *base
	dbURL.Path = "/" + name
	dbURL.RawPath = ""
	return dbURL.String()
}

func dropDatabase(t testing.TB, adminURL, name string) {
	t.Helper()
	// t.Context is already cancelled while cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn := connectAdmin(ctx, t, adminURL)
	defer func() { _ = conn.Close(ctx) }()
	// FORCE ends sessions a test forgot to close instead of failing the drop.
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
	}
}

func connectAdmin(ctx context.Context, t testing.TB, adminURL string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		t.Fatalf("pgtest: parse %s %q: %v", AdminURLEnv, redact(adminURL), err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: cannot connect to PostgreSQL at %s: %v\n"+
			"Database tests need a real PostgreSQL (user postgres, trust auth) on 127.0.0.1:5432. Start one:\n"+
			"  sudo service postgresql start\n"+
			"  or: docker run -d --name daz-pg -p 127.0.0.1:5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15\n"+
			"or set %s to the admin database of another server.",
			redact(adminURL), err, AdminURLEnv)
	}
	return conn
}

// databaseName turns a test name such as "TestSeen/Mixed_Case" into a valid,
// unquoted-looking identifier that still says which test left it behind if a
// run is killed before cleanup.
func databaseName(testName, suffix string) string {
	var b strings.Builder
	lastUnderscore := true // no leading underscore
	for _, r := range strings.ToLower(testName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			lastUnderscore = false
			continue
		}
		if !lastUnderscore {
			b.WriteByte('_')
			lastUnderscore = true
		}
	}
	middle := b.String()
	if len(middle) > maxTestNameLen {
		middle = middle[:maxTestNameLen]
	}
	middle = strings.Trim(middle, "_")
	if middle == "" {
		middle = "test"
	}
	return namePrefix + middle + "_" + suffix
}

func randomHex() string {
	buf := make([]byte, randomHexLen/2)
	_, _ = rand.Read(buf) // never fails: crypto/rand crashes the program instead
	return hex.EncodeToString(buf)
}

func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "<unparseable URL>"
	}
	return u.Redacted()
}

// Connect opens one connection to databaseURL, closed when the test ends.
func Connect(t testing.TB, databaseURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), databaseURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}
