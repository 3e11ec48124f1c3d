package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/daz-bot/daz/migrations/pgtest"
)

func runMigrate(t *testing.T, dbURL string, args ...string) (int, string, string) {
	t.Helper()
	return runWithDatabase(t, dbURL, append([]string{"migrate"}, args...)...)
}

func TestMigrateStatusBeforeAndAfterUp(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	code, out, errOut := runMigrate(t, dbURL, "status")
	if code != exitOK {
		t.Fatalf("status on an empty database: exit %d: %s", code, errOut)
	}
	if stateOf(out, "00001_core_chat_log.sql") != "pending" || !strings.Contains(out, "pending: `daz migrate`") {
		t.Fatalf("an empty database should list every migration as pending:\n%s", out)
	}
	if strings.Contains(out, " applied ") {
		t.Fatalf("status applied something:\n%s", out)
	}
	if code, _, errOut := runMigrate(t, dbURL); code != exitOK {
		t.Fatalf("migrate: exit %d: %s", code, errOut)
	}
	code, out, errOut = runMigrate(t, dbURL, "status")
	if code != exitOK {
		t.Fatalf("status after up: exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "pending") || stateOf(out, "00001_core_chat_log.sql") != "applied" {
		t.Fatalf("after migrate every migration should be applied:\n%s", out)
	}
}

func TestMigrateStatusNeedsADatabase(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := runCommand(context.Background(), []string{"migrate", "status"}, nil, &out, &errOut)
	if code != exitConfig || !strings.Contains(errOut.String(), "database.url") {
		t.Fatalf("without database.url: exit %d, %q", code, errOut.String())
	}
}

// stateOf reads the STATE column of one migration's row.
func stateOf(listing, migration string) string {
	for _, line := range strings.Split(listing, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == migration {
			return f[1]
		}
	}
	return ""
}
