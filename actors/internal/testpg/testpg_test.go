package testpg

import (
	"testing"

	"github.com/daz-bot/daz/migrations"
	"github.com/daz-bot/daz/migrations/pgtest"
)

func TestNewMigratedHasCurrentSchema(t *testing.T) {
	t.Parallel()
	dbURL := NewMigrated(t)
	states, err := migrations.Status(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if len(states) == 0 {
		t.Fatal("no migrations known")
	}
	for _, s := range states {
		if !s.Applied {
			t.Errorf("migration %s not applied", s.Name)
		}
	}
	var reg *string
	if err := pgtest.Pool(t, dbURL).QueryRow(t.Context(), "SELECT to_regclass('daz_core_chat_log')::text").Scan(&reg); err != nil {
		t.Fatalf("look up table: %v", err)
	}
	if reg == nil {
		t.Fatal("daz_core_chat_log missing after NewMigrated")
	}
}
