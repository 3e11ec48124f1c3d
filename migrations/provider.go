package migrations

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// defaultConnectTimeout keeps a dead or firewalled server from hanging
// `daz migrate` when the URL sets no connect_timeout of its own.
const defaultConnectTimeout = 10 * time.Second

// withProvider opens the database, builds a goose provider over the migration
// files in fsys and closes everything once fn returns.
func withProvider(databaseURL string, fsys fs.FS, fn func(*goose.Provider) error) (err error) {
	db, err := openDB(databaseURL)
	if err != nil {
		return err
	}
	defer func() {
		if closeErr := db.Close(); closeErr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", closeErr))
		}
	}()
	p, err := newProvider(db, fsys)
	if err != nil {
		return err
	}
	return fn(p)
}

func openDB(databaseURL string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		// pgx redacts the password in its own message; the URL is not repeated here.
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	// One connection holds the advisory lock and runs the migrations; goose
	// may want a second one for bookkeeping.
	db.SetMaxOpenConns(2)
	return db, nil
}

func newProvider(db *sql.DB, fsys fs.FS) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(newAdvisoryLocker(advisoryLockID, lockWaitLimit)),
		// Go migrations registered globally by other packages must never leak in.
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return nil, fmt.Errorf("create goose provider: %w", err)
	}
	return p, nil
}
