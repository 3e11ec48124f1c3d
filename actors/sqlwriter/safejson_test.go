package sqlwriter

import (
	"context"
	"testing"

	"github.com/daz-bot/daz/actors/internal/jsontext"
	"github.com/daz-bot/daz/actors/internal/jsontext/jsontexttest"
	"github.com/daz-bot/daz/actors/internal/testpg"
)

// PostgreSQL is the judge of what needs repair: what jsontext.Scan passes as
// is must be accepted as jsonb, what it flags must be refused.
func TestScanJSONAgreesWithPostgreSQL(t *testing.T) {
	t.Parallel()
	pool := testpg.Pool(t, testpg.New(t))
	ctx := context.Background()
	for _, c := range jsontexttest.Cases(t) {
		valid, repair := jsontext.Scan(c)
		if !valid {
			continue
		}
		_, err := pool.Exec(ctx, `SELECT $1::text::jsonb`, string(c))
		if accepted := err == nil; accepted == repair {
			t.Errorf("Scan(%q) needs repair = %v, PostgreSQL: %v", c, repair, err)
		}
		// The repaired form must always be accepted.
		safe, _ := safeJSON(c)
		if _, err := pool.Exec(ctx, `SELECT $1::text::jsonb`, string(safe)); err != nil {
			t.Errorf("safeJSON(%q) = %q refused: %v", c, safe, err)
		}
	}
}

func FuzzSafeJSON(f *testing.F) {
	for _, c := range jsontexttest.Cases(f) {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		safe, _ := safeJSON(raw)
		if ok, repair := jsontext.Scan(safe); !ok || repair {
			t.Fatalf("safeJSON(%q) = %q still needs repair", raw, safe)
		}
	})
}
