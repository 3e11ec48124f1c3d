package jsontext_test

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/daz-bot/daz/actors/internal/jsontext"
	"github.com/daz-bot/daz/actors/internal/jsontext/jsontexttest"
)

func TestScanAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, c := range jsontexttest.Cases(t) {
		valid, _ := jsontext.Scan(c)
		if want := json.Valid(c); valid != want {
			t.Errorf("Scan(%q) valid = %v, encoding/json says %v", c, valid, want)
		}
	}
}

// needsRepair is what PostgreSQL's jsonb input refuses; the writer's tests
// ask PostgreSQL itself, these pin the known answers.
func TestScanFlagsWhatJSONBRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text   string
		repair bool
	}{
		{`"plain"`, false},
		{`"\u00e9"`, false},
		{`"\ud83d\ude00"`, false},
		{`"\\u0000"`, false},
		{`"\u0000"`, true},
		{`{"k\u0000":1}`, true},
		{`"\ud800"`, true},
		{`"\udc00"`, true},
		{"\"\xff\"", true},
	} {
		valid, repair := jsontext.Scan([]byte(c.text))
		if !valid || repair != c.repair {
			t.Errorf("Scan(%q) = valid %v, repair %v; want valid, repair %v", c.text, valid, repair, c.repair)
		}
	}
}

func FuzzScan(f *testing.F) {
	for _, c := range jsontexttest.Cases(f) {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		valid, _ := jsontext.Scan(raw)
		if want := json.Valid(raw); valid != want {
			t.Fatalf("Scan(%q) valid = %v, encoding/json says %v", raw, valid, want)
		}
	})
}

// BenchmarkScan compares Scan with json.Valid on every payload of the
// big_channel recording (two 727 KB playlists among them).
func BenchmarkScan(b *testing.B) {
	payloads, total := recordedPayloads(b)
	b.Run("Scan", func(b *testing.B) {
		b.SetBytes(total)
		for i := 0; i < b.N; i++ {
			for _, p := range payloads {
				jsontext.Scan(p)
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

func recordedPayloads(b *testing.B) ([][]byte, int64) {
	b.Helper()
	f, err := os.Open("../../../testdata/frames/big_channel.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var payloads [][]byte
	var total int64
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var rec struct {
			Frame string `json:"frame"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil || len(rec.Frame) < 3 || rec.Frame[:2] != "42" {
			continue
		}
		var args []json.RawMessage
		if json.Unmarshal([]byte(rec.Frame[2:]), &args) != nil || len(args) < 2 {
			continue
		}
		payloads = append(payloads, args[1])
		total += int64(len(args[1]))
	}
	if len(payloads) == 0 {
		b.Fatal("no payloads in big_channel.jsonl")
	}
	return payloads, total
}
