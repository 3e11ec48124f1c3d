package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestDatabaseName(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^daz_t_[a-z0-9_]+_[0-9a-f]{8}$`)
	tests := []struct {
		testName string
		want     string // exact name, or "" to only check validity
	}{
		{"TestSeen", "daz_t_testseen_0123abcd"},
		{"TestSeen/Mixed_Case#01", "daz_t_testseen_mixed_case_01_0123abcd"},
		{"Test'; DROP DATABASE postgres; --", "daz_t_test_drop_database_postgres_0123abcd"},
		{"Тест/ユーザー", "daz_t_test_0123abcd"},
		{"", "daz_t_test_0123abcd"},
		{strings.Repeat("TestVeryLongName/", 10), ""},
		{strings.Repeat("a", 47) + "/b", ""}, // cut lands on the separator
	}
	for _, tt := range tests {
		t.Run(tt.testName, func(t *testing.T) {
			t.Parallel()
			got := databaseName(tt.testName, "0123abcd")
			if len(got) > maxIdentifierLen {
				t.Errorf("databaseName(%q) = %q: %d bytes, PostgreSQL keeps only %d", tt.testName, got, len(got), maxIdentifierLen)
			}
			if !valid.MatchString(got) || strings.Contains(got, "__") {
				t.Errorf("databaseName(%q) = %q: not a clean identifier", tt.testName, got)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("databaseName(%q) = %q, want %q", tt.testName, got, tt.want)
			}
		})
	}
}

func TestNewGivesEachCallItsOwnDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	first, second := New(t), New(t)

	a := Connect(t, first)
	b := Connect(t, second)
	if got, want := currentDatabase(t, a), databaseOf(t, first); got != want {
		t.Fatalf("connected to %q, URL names %q", got, want)
	}
	if databaseOf(t, first) == databaseOf(t, second) {
		t.Fatalf("two New calls returned the same database %q", databaseOf(t, first))
	}
	if _, err := a.Exec(ctx, "CREATE TABLE only_in_first (x int)"); err != nil {
		t.Fatalf("create table: %v", err)
	}
	var reg *string
	if err := b.QueryRow(ctx, "SELECT to_regclass('only_in_first')::text").Scan(&reg); err != nil {
		t.Fatalf("look up table: %v", err)
	}
	if reg != nil {
		t.Fatalf("table created in the first database is visible in the second")
	}
}

func TestNewDropsDatabaseEvenWithOpenConnection(t *testing.T) {
	t.Parallel()
	var name string
	var leaked *pgx.Conn
	t.Run("uses database", func(t *testing.T) {
		dbURL := New(t)
		name = databaseOf(t, dbURL)
		var err error
		leaked, err = pgx.Connect(t.Context(), dbURL) // deliberately left open
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
	})
	t.Cleanup(func() { _ = leaked.Close(context.Background()) })

	if databaseExists(t, name) {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

func TestPoolIsClosedWhenTestEnds(t *testing.T) {
	t.Parallel()
	dbURL := New(t)
	var pool interface{ Ping(context.Context) error }
	t.Run("uses pool", func(t *testing.T) {
		p := Pool(t, dbURL)
		pool = p
		var one int
		if err := p.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("SELECT 1 = %d, %v", one, err)
		}
	})
	if err := pool.Ping(t.Context()); err == nil {
		t.Fatal("pool still usable after its test ended")
	}
}

func TestBadAdminURLFailsWithHowTo(t *testing.T) {
	t.Parallel()
	const fakePassword = "s3cret"
	tests := []struct {
		name     string
		adminURL string
		want     []string
	}{
		{
			name: "nothing listening",
			adminURL: (&url.URL{
				Scheme: "postgres", User: url.UserPassword("postgres", fakePassword),
				Host: "127.0.0.1:1", Path: "/postgres", RawQuery: "sslmode=disable",
			}).String(),
			want: []string{"cannot connect to PostgreSQL at postgres://postgres:xxxxx@127.0.0.1:1/", "service postgresql start", AdminURLEnv},
		},
		{
			name:     "not a URL",
			adminURL: "host=127.0.0.1 user=postgres",
			want:     []string{AdminURLEnv, "must be a postgres:// URL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &fatalRecorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				newDatabase(rec, tt.adminURL)
			}()
			<-done
			if rec.fatal == "" {
				t.Fatal("newDatabase returned without failing the test")
			}
			for _, w := range tt.want {
				if !strings.Contains(rec.fatal, w) {
					t.Errorf("failure message lacks %q:\n%s", w, rec.fatal)
				}
			}
			if strings.Contains(rec.fatal, fakePassword) {
				t.Errorf("failure message leaks the password:\n%s", rec.fatal)
			}
			if rec.cleanups != 0 {
				t.Errorf("%d cleanups registered for a database never created", rec.cleanups)
			}
		})
	}
}

// fatalRecorder stands in for the test so a Fatalf can be observed instead of
// failing the real test.
type fatalRecorder struct {
	testing.TB
	fatal    string
	cleanups int
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *fatalRecorder) Cleanup(func()) { r.cleanups++ }

func currentDatabase(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var name string
	if err := conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
		t.Fatalf("current_database: %v", err)
	}
	return name
}

func databaseOf(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("parse %q: %v", dbURL, err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	conn := Connect(t, AdminURL())
	var exists bool
	if err := conn.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("query pg_database: %v", err)
	}
	return exists
}
