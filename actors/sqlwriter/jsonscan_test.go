package sqlwriter

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/daz-bot/daz/actors/internal/testpg"
)

// jsonCases are texts where JSON validity or PostgreSQL's acceptance is easy
// to get wrong.
var jsonCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `-0.5e+10`, `1E5`, `true`, `false`, `null`, ` {"a" : [1, 2, {"b": null}] } `,
	`{"a":"\"\\\/\b\f\n\r\t"}`, `"\u00e9\u20AC"`, `"\ud83d\ude00"`, `"\\u0000"`, "\"é🙂\u202e\"",
	`01`, `1.`, `.5`, `-`, `1e`, `+1`, `[1,]`, `{"a":1,}`, `{"a"}`, `{a:1}`, `[1 2]`, `"abc`, `"\x"`, `"\u12"`, `"\u12G4"`,
	`tru`, `nul`, `[`, `{`, `"tab	in string"`, "\"nl\nin string\"", "\"a\x00b\"", `{"a":1}{}`, `1 2`, "\ufeff{}", ``, ` `,
	`"\u0000"`, `{"k\u0000":1}`, `"\ud800"`, `"\ud800x"`, `"\udc00"`, `"\ud800\u0041"`, `"\ud800\ud800"`, `"\udbff\udfff"`,
	"\"\xff\"", "\"\xc3\"", "\"\xed\xa0\x80\"", "\"ok\" \xff",
	strings.Repeat("[", 100) + strings.Repeat("]", 100),
}

func TestScanJSONAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, c := range jsonCases {
		valid, _ := scanJSON([]byte(c))
		if want := json.Valid([]byte(c)); valid != want {
			t.Errorf("scanJSON(%q) valid = %v, encoding/json says %v", c, valid, want)
		}
	}
}

// PostgreSQL is the judge of what needs repair: what scanJSON passes as is
// must be accepted as jsonb, what it flags must be refused.
func TestScanJSONAgreesWithPostgreSQL(t *testing.T) {
	t.Parallel()
	pool := testpg.Pool(t, testpg.New(t))
	ctx := context.Background()
	for _, c := range jsonCases {
		valid, repair := scanJSON([]byte(c))
		if !valid {
			continue
		}
		_, err := pool.Exec(ctx, `SELECT $1::text::jsonb`, c)
		if accepted := err == nil; accepted == repair {
			t.Errorf("scanJSON(%q) needs repair = %v, PostgreSQL: %v", c, repair, err)
		}
		// The repaired form must always be accepted.
		safe, _ := safeJSON([]byte(c))
		if _, err := pool.Exec(ctx, `SELECT $1::text::jsonb`, string(safe)); err != nil {
			t.Errorf("safeJSON(%q) = %q refused: %v", c, safe, err)
		}
	}
}

func FuzzScanJSON(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		valid, _ := scanJSON(raw)
		if want := json.Valid(raw); valid != want {
			t.Fatalf("scanJSON(%q) valid = %v, encoding/json says %v", raw, valid, want)
		}
		safe, _ := safeJSON(raw)
		if ok, repair := scanJSON(safe); !ok || repair {
			t.Fatalf("safeJSON(%q) = %q still needs repair", raw, safe)
		}
	})
}

func BenchmarkScanJSON(b *testing.B) {
	_, live := benchFrames(b, "big_channel")
	burst, _ := benchFrames(b, "big_channel")
	var payloads [][]byte
	var total int64
	for _, f := range append(burst, live...) {
		var args []json.RawMessage
		if err := json.Unmarshal(f[2:], &args); err != nil || len(args) < 2 {
			continue
		}
		payloads = append(payloads, args[1])
		total += int64(len(args[1]))
	}
	b.Run("scanJSON", func(b *testing.B) {
		b.SetBytes(total)
		for i := 0; i < b.N; i++ {
			for _, p := range payloads {
				scanJSON(p)
			}
		}
	})
	b.Run("encoding_json_Valid", func(b *testing.B) {
		b.SetBytes(total)
		for i := 0; i < b.N; i++ {
			for _, p := range payloads {
				json.Valid(p)
			}
		}
	})
}
