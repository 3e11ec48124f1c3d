package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/migrations/pgtest"
)

func runToken(t *testing.T, dbURL string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := runCommand(ctx, append([]string{"token"}, args...), []string{"DAZ_DATABASE_URL=" + dbURL}, &out, &errOut)
	return code, out.String(), errOut.String()
}

// create prints the token once (stdout only, so it can be captured), the
// database keeps its hash, list shows it without the secret, revoke ends it.
func TestTokenCreateListRevoke(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	code, token, errOut := runToken(t, dbURL, "create", "--channel", "MyChan", "--scope", "say", "--label", "deploy bot")
	token = strings.TrimSpace(token)
	if code != exitOK || !strings.HasPrefix(token, "daz_") || len(token) < 40 || !strings.Contains(errOut, "only this once") {
		t.Fatalf("create: %d %q %q", code, token, errOut)
	}
	conn := pgtest.Connect(t, dbURL)
	var stored int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM daz_web_tokens WHERE hash = sha256($1::text::bytea) AND channel = 'mychan'`, token).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("hash not stored: %d %v", stored, err)
	}
	code, out, _ := runToken(t, dbURL, "list")
	if code != exitOK || !strings.Contains(out, "mychan") || !strings.Contains(out, "deploy bot") || strings.Contains(out, token) {
		t.Fatalf("list: %d %s", code, out)
	}
	if code, out, _ := runToken(t, dbURL, "revoke", "1"); code != exitOK || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %s", code, out)
	}
	if code, _, _ := runToken(t, dbURL, "revoke", "1"); code != exitFailed {
		t.Fatalf("second revoke: %d", code)
	}
	for _, bad := range [][]string{{}, {"create", "--channel", "x"}, {"create", "--channel", "x", "--scope", "admin"}, {"revoke"}, {"revoke", "abc"}, {"frobnicate"}} {
		if code, _, _ := runToken(t, dbURL, bad...); code != exitConfig {
			t.Errorf("%v: exit %d, want %d", bad, code, exitConfig)
		}
	}
}
