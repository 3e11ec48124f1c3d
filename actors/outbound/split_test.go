package outbound

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	word := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name string
		text string
		max  int
		want []string
	}{
		{"short", "hello world", 320, []string{"hello world"}},
		{"blank", "  \t ", 320, nil},
		{"exactly max", word(10), 10, []string{word(10)}},
		{"word boundary", "aaaa bbbb cccc", 9, []string{"aaaa bbbb", "cccc"}},
		{"space right after the window", "aaaa bbbb cccc", 4, []string{"aaaa", "bbbb", "cccc"}},
		{"runs of spaces collapse at the cut", "aaaa     bbbb", 6, []string{"aaaa", "bbbb"}},
		{"long word hard split", word(25), 10, []string{word(10), word(10), word(5)}},
		{"long word after short", "hi " + word(12), 10, []string{"hi", word(10), "aa"}},
		{"multi-byte runes never cut", strings.Repeat("é", 12), 5, []string{"ééééé", "ééééé", "éé"}},
		// An emoji outside the BMP is two UTF-16 units: three fit in 7.
		{"astral counts two", strings.Repeat("😀", 5), 7, []string{"😀😀😀", "😀😀"}},
		// e + combining acute must stay together when cut hard.
		{"combining mark stays", "abcde\u0301fgh", 5, []string{"abcd", "e\u0301fgh"}},
		{"newline is whitespace", "aaaa\nbbbb", 6, []string{"aaaa", "bbbb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Split(tt.text, tt.max)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Fatalf("Split(%q, %d) = %q, want %q", tt.text, tt.max, got, tt.want)
			}
			for _, p := range got {
				if Len16(p) > tt.max || !utf8.ValidString(p) {
					t.Fatalf("piece %q is %d units (max %d) or invalid UTF-8", p, Len16(p), tt.max)
				}
			}
		})
	}
}

func TestSplitKeepsEveryWord(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 400 {
		b.WriteString(strings.Repeat("x", i%17+1))
		b.WriteString(" ")
	}
	text := strings.TrimSpace(b.String())
	parts := Split(text, MaxMessageChars)
	if len(parts) < 2 {
		t.Fatalf("%d chars gave %d parts", len(text), len(parts))
	}
	if got := strings.Join(parts, " "); got != text {
		t.Fatal("joining the parts does not give the text back")
	}
	for _, p := range parts {
		if Len16(p) > MaxMessageChars {
			t.Fatalf("part of %d units", Len16(p))
		}
	}
}
