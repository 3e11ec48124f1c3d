// Package jsontext is the one JSON validator on the ingest path: the frame
// parser and the SQL writer both need "is this one JSON text, and would
// PostgreSQL's jsonb accept it as is", and encoding/json's validator was the
// largest CPU cost of a join burst.
package jsontext

import "unicode/utf8"

// Scan validates raw as one JSON text and reports whether PostgreSQL's
// JSONB input would still refuse it: invalid UTF-8, a \u0000 escape or a
// UTF-16 surrogate escape that is not part of a pair. valid agrees with
// json.Valid (fuzzed); one pass answers both questions at about twice its
// speed.
func Scan(raw []byte) (valid, needsRepair bool) {
	s := jsonScanner{b: raw}
	s.space()
	if !s.value() {
		return false, false
	}
	s.space()
	return s.i == len(raw), s.repair
}

// ValueEnd reads the one JSON value starting at b[start] and returns the
// index just past it; ok is false if none is there.
func ValueEnd(b []byte, start int) (end int, ok bool) {
	s := jsonScanner{b: b, i: start}
	if !s.value() {
		return 0, false
	}
	return s.i, true
}

// maxJSONDepth matches encoding/json's nesting limit.
const maxJSONDepth = 10000

type jsonScanner struct {
	b      []byte
	i      int
	depth  int
	repair bool
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScanner) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.container('}', true)
	case c == '[':
		return s.container(']', false)
	case c == '"':
		return s.str()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return false
}

// container reads an object (keyed) or an array up to its closing byte.
func (s *jsonScanner) container(closing byte, keyed bool) bool {
	s.depth++
	if s.depth > maxJSONDepth {
		return false
	}
	defer func() { s.depth-- }()
	s.i++
	s.space()
	if s.i < len(s.b) && s.b[s.i] == closing {
		s.i++
		return true
	}
	for {
		s.space()
		if keyed {
			if s.i >= len(s.b) || s.b[s.i] != '"' || !s.str() {
				return false
			}
			s.space()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return false
			}
			s.i++
			s.space()
		}
		if !s.value() {
			return false
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case closing:
			s.i++
			return true
		default:
			return false
		}
	}
}

func (s *jsonScanner) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

func (s *jsonScanner) digits() int {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}

func (s *jsonScanner) number() bool {
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if s.digits() == 0 {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

// str reads a string starting at its opening quote. Runs of plain ASCII are
// skipped in a tight loop: they are nearly all of a chat payload.
func (s *jsonScanner) str() bool {
	b, i := s.b, s.i+1
	for i < len(b) {
		c := b[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			return true
		case c == '\\':
			s.i = i
			if !s.escape() {
				return false
			}
			i = s.i
		case c < 0x20:
			return false // control characters must be escaped
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				s.repair = true
			}
			i += size
		}
	}
	return false
}

// escape reads one escape sequence starting at its backslash.
func (s *jsonScanner) escape() bool {
	if s.i+1 >= len(s.b) {
		return false
	}
	switch s.b[s.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i += 2
		return true
	case 'u':
	default:
		return false
	}
	r, ok := hex4(s.b, s.i+2)
	if !ok {
		return false
	}
	s.i += 6
	switch {
	case r == 0:
		s.repair = true
	case r >= 0xDC00 && r <= 0xDFFF:
		s.repair = true // a low surrogate with no high one before it
	case r >= 0xD800 && r <= 0xDBFF:
		if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
			if low, ok := hex4(s.b, s.i+2); ok && low >= 0xDC00 && low <= 0xDFFF {
				s.i += 6
				return true
			}
		}
		s.repair = true // the next escape, if any, is read on its own
	}
	return true
}

// hex4 reads the four hex digits of a \u escape starting at raw[at].
func hex4(raw []byte, at int) (rune, bool) {
	if at+4 > len(raw) {
		return 0, false
	}
	var r rune
	for _, c := range raw[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}
