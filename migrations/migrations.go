// Package migrations owns the daz PostgreSQL schema: versioned SQL files
// embedded in the binary and applied with goose.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/pressly/goose/v3"
)

//go:embed *.sql
var files embed.FS // immutable, so not the package state the project bans

// MigrationState is one migration file as seen by `daz migrate status`.
type MigrationState struct {
	Version   int64
	Name      string    // file name, e.g. 00001_core_chat_log.sql
	Applied   bool      // recorded in the goose version table
	AppliedAt time.Time // zero while pending
}

// Up applies every pending migration and returns the file names it applied,
// in order; an up-to-date database gives an empty list. Concurrent callers on
// the same database are serialized by a PostgreSQL advisory lock, so the
// loser of the race sees nothing left to apply. If a migration fails, the
// names applied before it are still returned along with the error.
func Up(ctx context.Context, databaseURL string) (applied []string, err error) {
	return upFS(ctx, databaseURL, files)
}

func upFS(ctx context.Context, databaseURL string, fsys fs.FS) (applied []string, err error) {
	err = withProvider(databaseURL, fsys, func(p *goose.Provider) error {
		results, upErr := p.Up(ctx)
		var partial *goose.PartialError
		if errors.As(upErr, &partial) {
			applied = resultNames(partial.Applied)
			return fmt.Errorf("apply migration %s: %w", sourceName(partial.Failed.Source), partial.Err)
		}
		if upErr != nil {
			return fmt.Errorf("apply migrations: %w", upErr)
		}
		applied = resultNames(results)
		return nil
	})
	if err != nil {
		return applied, fmt.Errorf("migrations up: %w", err)
	}
	return applied, nil
}

// Status reports every known migration in version order and whether the
// database has it.
func Status(ctx context.Context, databaseURL string) ([]MigrationState, error) {
	var states []MigrationState
	err := withProvider(databaseURL, files, func(p *goose.Provider) error {
		list, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("read migration status: %w", err)
		}
		states = make([]MigrationState, 0, len(list))
		for _, s := range list {
			states = append(states, MigrationState{
				Version:   s.Source.Version,
				Name:      sourceName(s.Source),
				Applied:   s.State == goose.StateApplied,
				AppliedAt: s.AppliedAt,
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("migrations status: %w", err)
	}
	return states, nil
}

func resultNames(results []*goose.MigrationResult) []string {
	names := make([]string, 0, len(results))
	for _, r := range results {
		names = append(names, sourceName(r.Source))
	}
	return names
}

func sourceName(s *goose.Source) string {
	if s == nil {
		return "<unknown>"
	}
	return path.Base(s.Path)
}
