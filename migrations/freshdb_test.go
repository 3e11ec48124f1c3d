package migrations

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// freshDatabase creates an empty database for one test and drops it when the
// test ends. It mirrors actors/internal/testpg, which this package cannot
// import: Go only lets code under actors/ use that internal package.
func freshDatabase(t *testing.T) string {
	t.Helper()
	adminURL := os.Getenv("DAZ_TEST_DATABASE_URL")
	if adminURL == "" {
		adminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	name := "daz_t_migrations_" + hex.EncodeToString(buf)

	admin := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return err
		}
		defer func() { _ = conn.Close(ctx) }()
		_, err = conn.Exec(ctx, sql)
		return err
	}
	ident := pgx.Identifier{name}.Sanitize()
	if err := admin(t.Context(), "CREATE DATABASE "+ident+" TEMPLATE template0"); err != nil {
		t.Fatalf("create test database (is PostgreSQL running on 127.0.0.1:5432 with trust auth for postgres? "+
			"try `sudo service postgresql start`): %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := admin(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("parse admin URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
