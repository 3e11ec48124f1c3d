package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/migrations/pgtest"
)

// runWithDatabase runs a daz command configured with nothing but the
// database, as `daz state` and `daz migrate` must work.
func runWithDatabase(t *testing.T, dbURL string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := runCommand(ctx, args, []string{"DAZ_DATABASE_URL=" + dbURL}, &out, &errOut)
	return code, out.String(), errOut.String()
}

func runState(t *testing.T, dbURL string, args ...string) (int, string, string) {
	t.Helper()
	return runWithDatabase(t, dbURL, append([]string{"state"}, args...)...)
}

func TestStateListsAndResets(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	code, out, errOut := runState(t, dbURL)
	if code != exitOK || !strings.Contains(out, "no persisted connection state") {
		t.Fatalf("empty: exit %d, %q %q", code, out, errOut)
	}
	pool := pgtest.Pool(t, dbURL)
	cooldown := time.Now().Add(20 * time.Minute).UTC().Truncate(time.Second)
	if _, err := pool.Exec(t.Context(), `INSERT INTO daz_core_retry_state
		(channel, retry_count, cooldown_until, last_error, stopped_reason, credentials_fp) VALUES
		('bannedchan', 0, NULL, 'banned: You''re banned!', 'banned: You''re banned!', 'fp'),
		('dupchan', 1, $1, 'duplicate-login: Duplicate login', '', 'fp')`, cooldown); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runState(t, dbURL)
	if code != exitOK {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"bannedchan", "stopped", "banned: You're banned!", "dupchan", "cooling down",
		cooldown.Format(time.RFC3339), "daz state reset <channel>"} {
		if !strings.Contains(out, want) {
			t.Errorf("listing lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "fp") {
		t.Errorf("the fingerprint is printed:\n%s", out)
	}

	code, out, errOut = runState(t, dbURL, "reset", "BannedChan")
	if code != exitOK || !strings.Contains(out, "cleared the persisted state of bannedchan") || !strings.Contains(out, "restart") {
		t.Fatalf("reset: exit %d, %q %q", code, out, errOut)
	}
	var left int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM daz_core_retry_state`).Scan(&left); err != nil || left != 1 {
		t.Fatalf("rows after the reset: %d (%v), want 1", left, err)
	}
	code, out, _ = runState(t, dbURL, "reset", "bannedchan")
	if code != exitOK || !strings.Contains(out, "nothing to clear") {
		t.Fatalf("second reset: exit %d, %q", code, out)
	}
}

func TestStateUsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		environ []string
		want    string
	}{
		{"reset without a channel", []string{"state", "reset"}, []string{"DAZ_DATABASE_URL=postgres://u@h/db"}, "name the channel"},
		{"no database", []string{"state"}, nil, "database.url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			if code := runCommand(context.Background(), tc.args, tc.environ, &out, &errOut); code != exitConfig {
				t.Fatalf("exit %d, want %d: %s", code, exitConfig, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.want) {
				t.Fatalf("stderr lacks %q: %s", tc.want, errOut.String())
			}
		})
	}
}
