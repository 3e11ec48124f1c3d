package sqlwriter

import (
	"encoding/json"
	"testing"
)

func TestSafeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		want    string // "" means: unchanged
		changed bool
	}{
		{"plain object", `{"a":"b","n":1.50}`, "", false},
		{"escaped specials stay", `{"a":"\"\\\/\b\f\n\r\t\u0001"}`, "", false},
		{"escaped backslash before u0000 is not NUL", `{"a":"\\u0000"}`, "", false},
		{"surrogate pair", `"\ud83d\ude00"`, "", false},
		{"missing payload", ``, `null`, false},
		{"NUL escape", `{"a":"x\u0000y"}`, `{"a":"x` + "\uFFFD" + `y"}`, true},
		{"NUL escape in a key", `{"k\u0000":1}`, `{"k` + "\uFFFD" + `":1}`, true},
		{"lone high surrogate", `["\ud800x"]`, `["` + "\uFFFD" + `x"]`, true},
		{"lone low surrogate", `"\udc00"`, `"` + "\uFFFD" + `"`, true},
		{"high surrogate at the end", `"\ud800"`, `"` + "\uFFFD" + `"`, true},
		{"invalid UTF-8", "\"a\xffb\"", `"a` + "\uFFFD" + `b"`, true},
		{"big numbers keep their digits", `{"n":123456789012345678901234567890,"a":"\u0000"}`,
			`{"a":"` + "\uFFFD" + `","n":123456789012345678901234567890}`, true},
		{"not JSON", "a\x00b", `"a` + "\uFFFD" + `b"`, true},
		{"truncated JSON", `{"a":`, `"{\"a\":"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, changed := safeJSON([]byte(tt.raw))
			want := tt.want
			if want == "" {
				want = tt.raw
			}
			if string(got) != want || changed != tt.changed {
				t.Fatalf("safeJSON(%q) = %s, %v; want %s, %v", tt.raw, got, changed, want, tt.changed)
			}
			if !json.Valid(got) {
				t.Fatalf("result %q is not JSON", got)
			}
		})
	}
}

func TestSafeText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"emoji 🙂 and RTL \u202e", "emoji 🙂 and RTL \u202e"},
		{"a\x00b", "a\uFFFDb"},
		{"a\xff\xfeb", "a\uFFFDb"}, // one replacement per invalid run
		{"\x00\xff", "\uFFFD\uFFFD"},
	}
	for _, tt := range tests {
		got, changed := safeText(tt.in)
		if got != tt.want || changed != (tt.in != tt.want) {
			t.Errorf("safeText(%q) = %q, %v; want %q", tt.in, got, changed, tt.want)
		}
	}
}
