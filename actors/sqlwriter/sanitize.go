package sqlwriter

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/daz-bot/daz/actors/internal/jsontext"
)

// PostgreSQL rejects two things Go strings and JSON happily carry: the NUL
// character (in TEXT, and as \u0000 in JSONB) and invalid UTF-8 (including
// JSON escapes of lone UTF-16 surrogates in JSONB). Everything else is stored
// byte for byte.

// replacement stands in for every byte sequence PostgreSQL would reject.
const replacement = "\uFFFD"

// textSafe reports whether PostgreSQL stores s in a TEXT column unchanged.
func textSafe(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// safeText returns s with NUL bytes and invalid UTF-8 replaced by U+FFFD,
// and whether anything was replaced.
func safeText(s string) (string, bool) {
	if textSafe(s) {
		return s, false
	}
	s = strings.ToValidUTF8(s, replacement)
	return strings.ReplaceAll(s, "\x00", replacement), true
}

// safeJSON returns a JSON document PostgreSQL accepts as JSONB, and whether
// it differs from raw. A missing payload becomes null. Valid JSON that only
// carries rejected characters keeps its structure with those characters
// replaced; anything that is not JSON at all becomes a JSON string of its
// repaired text, so the row still says what arrived.
func safeJSON(raw []byte) (json.RawMessage, bool) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("null"), len(raw) != 0
	}
	valid, needsRepair := jsontext.Scan(raw)
	if !valid {
		text, _ := safeText(string(raw))
		quoted, _ := json.Marshal(text) // a string never fails to marshal
		return quoted, true
	}
	if !needsRepair {
		return raw, false
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	// encoding/json already turns invalid UTF-8 and lone surrogates into
	// U+FFFD while decoding; only NUL needs replacing by hand.
	if err := dec.Decode(&v); err != nil {
		text, _ := safeText(string(raw))
		quoted, _ := json.Marshal(text)
		return quoted, true
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(replaceNUL(v)); err != nil {
		text, _ := safeText(string(raw))
		quoted, _ := json.Marshal(text)
		return quoted, true
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), true
}

// replaceNUL walks a decoded JSON value and repairs every key and string.
func replaceNUL(v any) any {
	switch x := v.(type) {
	case string:
		s, _ := safeText(x)
		return s
	case []any:
		for i := range x {
			x[i] = replaceNUL(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			key, _ := safeText(k)
			out[key] = replaceNUL(val)
		}
		return out
	}
	return v
}
