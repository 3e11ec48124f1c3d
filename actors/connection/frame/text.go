package frame

import (
	"html"
	"strings"
)

// PlainText turns the sanitized HTML CyTube sends in chatMsg/pm "msg" into
// the text a user typed, as far as it can be recovered: tags are removed
// and entities are unescaped exactly once, so "&amp;amp;" yields "&amp;".
//
// Why not golang.org/x/net/html: it would be a new dependency and its
// tokenizer allocates per token, while this runs for every chat line. The
// input is narrow: the server escapes every "<" a user types, so any
// remaining "<" opens a tag the server generated (<a>, <em>, <strong>,
// <code>, <s>, spoilers). Tags are stripped before unescaping so an escaped
// "&lt;b&gt;" survives as the literal text "<b>".
//
// Lines without "<" or "&" are returned as-is without allocating.
func PlainText(msg string) string {
	if strings.IndexByte(msg, '<') < 0 {
		return html.UnescapeString(msg)
	}
	var b strings.Builder
	b.Grow(len(msg))
	for i := 0; i < len(msg); {
		lt := strings.IndexByte(msg[i:], '<')
		if lt < 0 {
			b.WriteString(msg[i:])
			break
		}
		b.WriteString(msg[i : i+lt])
		i += lt
		end := markupEnd(msg, i)
		switch end {
		case notMarkup:
			b.WriteByte('<')
			i++
		case unterminated:
			b.WriteString(msg[i:])
			i = len(msg)
		default:
			i = end
		}
	}
	return html.UnescapeString(b.String())
}

// markupEnd results besides an end index.
const (
	notMarkup    = -1 // the "<" is literal text
	unterminated = -2 // markup runs to the end of the line
)

// markupEnd returns the index just past the tag or comment starting at
// s[i] == '<', notMarkup, or unterminated. Like an HTML tokenizer, "<" only
// opens a tag before a letter, "/letter" or "!". Unterminated markup is kept
// as text rather than swallowing the rest of the line, and is not searched
// for further tags: that keeps the whole function linear on hostile input.
func markupEnd(s string, i int) int {
	rest := s[i+1:]
	switch {
	case strings.HasPrefix(rest, "!--"):
		if end := strings.Index(rest[3:], "-->"); end >= 0 {
			return i + 1 + 3 + end + 3
		}
		return unterminated
	case len(rest) > 0 && rest[0] == '!',
		len(rest) > 0 && isASCIILetter(rest[0]),
		len(rest) > 1 && rest[0] == '/' && isASCIILetter(rest[1]):
		return tagEnd(s, i+1)
	}
	return notMarkup
}

// tagEnd finds the ">" closing a tag whose body starts at s[i], skipping
// quoted attribute values (a quote counts only right after "=", as in HTML).
func tagEnd(s string, i int) int {
	afterEquals := false
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '>':
			return i + 1
		case '"', '\'':
			if afterEquals {
				closing := strings.IndexByte(s[i+1:], c)
				if closing < 0 {
					return unterminated
				}
				i += 1 + closing
			}
			afterEquals = false
		case '=':
			afterEquals = true
		case ' ', '\t', '\n', '\r', '\f':
		default:
			afterEquals = false
		}
	}
	return unterminated
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
