// Package testpg gives each actor test its own PostgreSQL database, empty or
// with the daz schema applied. The per-test database itself comes from
// migrations/pgtest.
package testpg

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/migrations"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// New creates an empty database for this test (dropped when it ends).
func New(t testing.TB) (databaseURL string) {
	t.Helper()
	return pgtest.New(t)
}

// NewMigrated is New with the full daz schema applied.
func NewMigrated(t testing.TB) (databaseURL string) {
	t.Helper()
	databaseURL = pgtest.New(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if _, err := migrations.Up(ctx, databaseURL); err != nil {
		t.Fatalf("testpg: migrate test database: %v", err)
	}
	return databaseURL
}

// Pool opens a pool on databaseURL, closed when the test ends.
func Pool(t testing.TB, databaseURL string) *pgxpool.Pool {
	t.Helper()
	return pgtest.Pool(t, databaseURL)
}
