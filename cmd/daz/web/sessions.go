package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sessions are kept in daz_web_sessions (migration 00026), by the SHA-256
// of the cookie, so a restart of the daemon signs nobody out. The web's
// pool is read-only by default; these are its only writes, each in an
// explicit read-write transaction. The server keeps the sessions it has
// seen in memory, so a signed-in page costs the database nothing after the
// first.

// csrfFor derives a session's CSRF token from its cookie: another site can
// read neither, and nothing more needs storing.
func csrfFor(cookie string) string {
	sum := sha256.Sum256([]byte("daz web csrf\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// saveSession stores a new session and deletes the expired ones.
func (s *Store) saveSession(ctx context.Context, hash []byte, sess *session, created time.Time) error {
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM daz_web_sessions WHERE expires_at <= $1`, created); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO daz_web_sessions (hash, channel, username, rank, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)`, hash, sess.channel, sess.user, sess.rank, created, sess.expires)
		return err
	})
	if err != nil {
		return fmt.Errorf("store web session: %w", err)
	}
	return nil
}

// loadSession finds a live session by its hash; nil when there is none.
func (s *Store) loadSession(ctx context.Context, hash []byte, now time.Time) (*session, error) {
	sess := &session{}
	err := s.pool.QueryRow(ctx, `SELECT channel, username, rank, expires_at FROM daz_web_sessions
WHERE hash = $1 AND expires_at > $2`, hash, now).Scan(&sess.channel, &sess.user, &sess.rank, &sess.expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load web session: %w", err)
	}
	return sess, nil
}

// deleteSession ends a session (sign-out).
func (s *Store) deleteSession(ctx context.Context, hash []byte) error {
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM daz_web_sessions WHERE hash = $1`, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	return nil
}
