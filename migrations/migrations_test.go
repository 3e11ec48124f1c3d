package migrations

import (
	"context"
	"github.com/daz-bot/daz/migrations/pgtest"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"
)

func embeddedNames(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		t.Fatalf("list embedded migrations: %v", err)
	}
	if len(names) == 0 {
		t.Fatal("no migrations embedded")
	}
	return names // fs.Glob sorts, and the zero-padded names sort by version
}

func TestMigrationFilesAreNumberedAndReversible(t *testing.T) {
	t.Parallel()
	pattern := regexp.MustCompile(`^(\d{5})_[a-z0-9_]+\.sql$`)
	// Number ranges are handed out per piece of work (00020-00029 to the
	// web, say), so a branch may leave a gap below its own range; what must
	// hold is that versions start at 1 and strictly increase.
	last := 0
	for _, name := range embeddedNames(t) {
		m := pattern.FindStringSubmatch(name)
		if m == nil {
			t.Errorf("%s: name must look like 00001_topic.sql", name)
			continue
		}
		v, _ := strconv.Atoi(m[1])
		if (last == 0 && v != 1) || v <= last {
			t.Errorf("%s: version %d after %d (must start at 1, no duplicates)", name, v, last)
		}
		last = v
		body, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		for _, marker := range []string{"-- +goose Up", "-- +goose Down"} {
			if !strings.Contains(string(body), marker) {
				t.Errorf("%s: missing %q", name, marker)
			}
		}
	}
}

func TestUpAppliesEverythingOnceAndStatusFollows(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbURL := pgtest.New(t)
	all := embeddedNames(t)

	before, err := Status(ctx, dbURL)
	if err != nil {
		t.Fatalf("status on empty database: %v", err)
	}
	if got := stateNames(before, false); !slices.Equal(got, all) {
		t.Fatalf("pending before Up = %v, want %v", got, all)
	}

	applied, err := Up(ctx, dbURL)
	if err != nil {
		t.Fatalf("first Up: %v", err)
	}
	if !slices.Equal(applied, all) {
		t.Fatalf("first Up applied %v, want %v", applied, all)
	}

	again, err := Up(ctx, dbURL)
	if err != nil {
		t.Fatalf("second Up: %v", err)
	}
	if len(again) != 0 {
		t.Fatalf("second Up applied %v, want nothing", again)
	}

	after, err := Status(ctx, dbURL)
	if err != nil {
		t.Fatalf("status after Up: %v", err)
	}
	if got := stateNames(after, true); !slices.Equal(got, all) {
		t.Fatalf("applied after Up = %v, want %v", got, all)
	}
	for _, s := range after {
		if s.AppliedAt.IsZero() || s.Version < 1 {
			t.Errorf("%s: version %d applied at %v", s.Name, s.Version, s.AppliedAt)
		}
	}
}

// Two migrators start while a third session holds the migration lock, so both
// are certainly waiting at once; each migration must then run exactly once.
func TestConcurrentUpAppliesEachMigrationOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbURL := pgtest.New(t)
	holder := pgtest.Connect(t, dbURL)
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock($1)", advisoryLockID); err != nil {
		t.Fatalf("take migration lock: %v", err)
	}

	const migrators = 2
	results := make([][]string, migrators)
	errs := make([]error, migrators)
	var wg sync.WaitGroup
	for i := range migrators {
		wg.Go(func() { results[i], errs[i] = Up(ctx, dbURL) })
	}
	checkFor(t, 30*time.Second, func() bool { return lockWaiters(t, holder) == migrators })
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", advisoryLockID); err != nil {
		t.Fatalf("release migration lock: %v", err)
	}
	wg.Wait()

	var combined []string
	for i := range migrators {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		combined = append(combined, results[i]...)
	}
	slices.Sort(combined)
	if all := embeddedNames(t); !slices.Equal(combined, all) {
		t.Fatalf("migrators together applied %v, want each of %v once", combined, all)
	}
	var rows int
	if err := holder.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&rows); err != nil {
		t.Fatalf("count versions: %v", err)
	}
	if rows != len(combined) {
		t.Fatalf("goose_db_version has %d rows, want %d", rows, len(combined))
	}
}

func TestUpGivesUpWhileAnotherMigratorHoldsTheLock(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	holder := pgtest.Connect(t, dbURL)
	if _, err := holder.Exec(t.Context(), "SELECT pg_advisory_lock($1)", advisoryLockID); err != nil {
		t.Fatalf("take migration lock: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	applied, err := Up(ctx, dbURL)
	if err == nil || !strings.Contains(err.Error(), "migration lock") {
		t.Fatalf("Up under a held lock = %v, %v; want a migration lock error", applied, err)
	}
	if len(applied) != 0 {
		t.Fatalf("Up under a held lock applied %v", applied)
	}
}

func TestUpReportsWhatAppliedBeforeAFailure(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	broken := fstest.MapFS{
		"00001_good.sql": {Data: []byte("-- +goose Up\nCREATE TABLE good (x int);\n-- +goose Down\nDROP TABLE good;\n")},
		"00002_bad.sql":  {Data: []byte("-- +goose Up\nCREATE TABLE bad (x no_such_type);\n-- +goose Down\nDROP TABLE bad;\n")},
	}
	applied, err := upFS(t.Context(), dbURL, broken)
	if err == nil {
		t.Fatal("Up with a broken migration succeeded")
	}
	if !slices.Equal(applied, []string{"00001_good.sql"}) {
		t.Errorf("applied = %v, want [00001_good.sql]", applied)
	}
	for _, want := range []string{"00002_bad.sql", "no_such_type"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestUpRejectsBadDatabase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		want string
	}{
		{"unparseable", "postgres://postgres@127.0.0.1:bad-port/x", "parse database URL"},
		{"nothing listening", "postgres://postgres:s3cret@127.0.0.1:1/x?sslmode=disable", "migrations up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			applied, err := Up(t.Context(), tt.url)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Up(%q) = %v, %v; want error mentioning %q", tt.url, applied, err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the password: %v", err)
			}
			if _, err := Status(t.Context(), tt.url); err == nil {
				t.Errorf("Status(%q) succeeded", tt.url)
			}
		})
	}
}

// The Down sections are only exercised here, so a typo in one would otherwise
// surface during an emergency rollback.
func TestDownRemovesEverythingAndUpRestoresIt(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbURL := pgtest.New(t)
	if _, err := Up(ctx, dbURL); err != nil {
		t.Fatalf("Up: %v", err)
	}
	err := withProvider(dbURL, files, func(p *goose.Provider) error {
		_, err := p.DownTo(ctx, 0)
		return err
	})
	if err != nil {
		t.Fatalf("down to 0: %v", err)
	}
	conn := pgtest.Connect(t, dbURL)
	if left := dazRelations(t, conn); len(left) != 0 {
		t.Fatalf("after down, still present: %v", left)
	}
	applied, err := Up(ctx, dbURL)
	if err != nil {
		t.Fatalf("Up after down: %v", err)
	}
	if all := embeddedNames(t); !slices.Equal(applied, all) {
		t.Fatalf("Up after down applied %v, want %v", applied, all)
	}
}

func stateNames(states []MigrationState, applied bool) []string {
	var names []string
	for _, s := range states {
		if s.Applied == applied {
			names = append(names, s.Name)
		}
	}
	return names
}

func lockWaiters(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	err := conn.QueryRow(t.Context(), `
		SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND NOT granted
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
	if err != nil {
		t.Fatalf("query pg_locks: %v", err)
	}
	return n
}

func dazRelations(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(),
		`SELECT relname FROM pg_class WHERE relname LIKE 'daz\_%' AND relnamespace = 'public'::regnamespace ORDER BY relname`)
	if err != nil {
		t.Fatalf("list relations: %v", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("read relations: %v", err)
	}
	return names
}

// checkFor polls cond until it holds or the deadline passes.
func checkFor(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", within)
		}
		select {
		case <-tick.C:
		case <-t.Context().Done():
			t.Fatal("test ended while waiting")
		}
	}
}
