package outbound

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Split cuts text into pieces the server will not truncate. CyTube cuts a
// message with JavaScript's substring, so length is counted in UTF-16 code
// units (an emoji outside the BMP counts two) of the raw text, before HTML
// escaping makes it longer. Pieces end at whitespace when the window has
// any; a single word longer than max is cut hard, but never inside a rune
// and never just before a combining mark or joiner that belongs to the
// preceding character. Pieces are trimmed; empty text gives no pieces.
func Split(text string, max int) []string {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	if max <= 0 {
		max = MaxMessageChars
	}
	var out []string
	for text != "" {
		fit := fitIndex(text, max)
		if fit == len(text) {
			out = append(out, text)
			break
		}
		_, size := utf8.DecodeRuneInString(text[fit:])
		cut := lastSpace(text[:fit+size])
		if cut <= 0 {
			cut = hardCut(text, fit)
		}
		piece := strings.TrimRightFunc(text[:cut], unicode.IsSpace)
		if piece != "" {
			out = append(out, piece)
		}
		text = strings.TrimLeftFunc(text[cut:], unicode.IsSpace)
	}
	return out
}

// units16 is the UTF-16 length of r.
func units16(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// Len16 is the UTF-16 length of s, the length CyTube measures.
func Len16(s string) int {
	n := 0
	for _, r := range s {
		n += units16(r)
	}
	return n
}

// fitIndex is the byte length of the longest prefix of s that is at most
// max UTF-16 units and ends on a rune boundary.
func fitIndex(s string, max int) int {
	n := 0
	for i, r := range s {
		n += units16(r)
		if n > max {
			return i
		}
	}
	return len(s)
}

// lastSpace returns the byte index of the start of the last whitespace run
// in s (s may include the rune right after the fitting window: a space
// there is a clean break), or -1.
func lastSpace(s string) int {
	idx := -1
	for i, r := range s {
		if unicode.IsSpace(r) && (i == 0 || !precededBySpace(s, i)) {
			idx = i
		}
	}
	return idx
}

func precededBySpace(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsSpace(r)
}

// hardCut moves a cut at byte fit back off combining marks, variation
// selectors and zero-width joiners so a visible character is not split
// from its modifiers; it gives up (cuts at fit) if the whole window is one
// such cluster.
func hardCut(s string, fit int) int {
	cut := fit
	for cut > 0 {
		r, _ := utf8.DecodeRuneInString(s[cut:])
		if !joinsPrevious(r) {
			break
		}
		_, size := utf8.DecodeLastRuneInString(s[:cut])
		cut -= size
	}
	if cut == 0 {
		return fit
	}
	return cut
}

func joinsPrevious(r rune) bool {
	return unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) ||
		r == 0x200D || (r >= 0xFE00 && r <= 0xFE0F) || (r >= 0x1F3FB && r <= 0x1F3FF)
}
