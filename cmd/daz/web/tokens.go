package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Token scopes.
const ScopeSay = "say"

// tokenPrefix marks daz tokens so they are recognisable in a config or a
// leak scanner.
const tokenPrefix = "daz_"

// newSecret is 32 random bytes, URL-safe.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// TokenInfo is one stored token (never the token itself).
type TokenInfo struct {
	ID        int64
	Channel   string
	Scope     string
	Label     string
	CreatedAt time.Time
	RevokedAt time.Time
}

// CreateToken stores a new token's hash and returns the token, which is
// shown once. A fast hash suffices: the token has 256 random bits, so there
// is nothing to guess that a slow hash would protect.
func CreateToken(ctx context.Context, pool *pgxpool.Pool, channel, scope, label string) (string, int64, error) {
	if scope != ScopeSay {
		return "", 0, fmt.Errorf("unknown scope %q (known: %s)", scope, ScopeSay)
	}
	if !channelPattern.MatchString(strings.ToLower(channel)) {
		return "", 0, fmt.Errorf("%q is not a channel name", channel)
	}
	token := tokenPrefix + newSecret()
	var id int64
	err := pool.QueryRow(ctx, `INSERT INTO daz_web_tokens (channel, scope, label, hash) VALUES ($1, $2, $3, $4) RETURNING id`,
		strings.ToLower(channel), scope, label, hashSecret(token)).Scan(&id)
	if err != nil {
		return "", 0, fmt.Errorf("store token: %w", err)
	}
	return token, id, nil
}

// ListTokens lists every token, newest first.
func ListTokens(ctx context.Context, pool *pgxpool.Pool) ([]TokenInfo, error) {
	rows, err := pool.Query(ctx, `SELECT id, channel, scope, label, created_at, revoked_at
		FROM daz_web_tokens ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TokenInfo, error) {
		var t TokenInfo
		var revoked *time.Time
		err := r.Scan(&t.ID, &t.Channel, &t.Scope, &t.Label, &t.CreatedAt, &revoked)
		if revoked != nil {
			t.RevokedAt = *revoked
		}
		return t, err
	})
}

// RevokeToken revokes one token; false when there is no such live token.
func RevokeToken(ctx context.Context, pool *pgxpool.Pool, id int64) (bool, error) {
	tag, err := pool.Exec(ctx, `UPDATE daz_web_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
	if err != nil {
		return false, fmt.Errorf("revoke token: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// errBadToken is any token that does not grant the request; which part
// was wrong is never said.
var errBadToken = errors.New("unauthorized")

// checkToken finds the live token for channel and scope; it returns the
// token's label and id for the log.
func (s *Store) checkToken(ctx context.Context, token, channel, scope string) (string, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 100 {
		return "", errBadToken
	}
	var id int64
	var label string
	err := s.pool.QueryRow(ctx, `SELECT id, label FROM daz_web_tokens
		WHERE hash = $1 AND channel = $2 AND scope = $3 AND revoked_at IS NULL`, hashSecret(token), channel, scope).Scan(&id, &label)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errBadToken
	}
	if err != nil {
		return "", unavailable("token", err)
	}
	return fmt.Sprintf("token %d (%s)", id, label), nil
}
