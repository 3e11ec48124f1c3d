package outbound

import (
	"regexp"
	"strings"
)

// urlToken is a URL as CyTube's linkifier sees it: a scheme, "://", then
// everything up to the next whitespace.
var urlToken = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://\S+`)

// trailing is punctuation that ends a sentence or a clause rather than a
// URL.
const trailing = `.,!?:;)]}'"`

// KeepLinksClickable puts a space between a URL and punctuation written
// directly after it. CyTube's linkifier takes every character up to the next
// whitespace into the link, so "see https://host/a.json, then" would link
// to ".../a.json," and miss. A closing bracket stays when the URL opened
// it (https://en.wikipedia.org/wiki/Go_(language)).
func KeepLinksClickable(text string) string {
	if !strings.Contains(text, "://") {
		return text
	}
	return urlToken.ReplaceAllStringFunc(text, func(u string) string {
		end := len(u)
		for end > 0 {
			c := u[end-1]
			if !strings.ContainsRune(trailing, rune(c)) || (closes(c) && balanced(u[:end], c)) {
				break
			}
			end--
		}
		if end == len(u) || !strings.Contains(u[:end], "://") || strings.HasSuffix(u[:end], "://") {
			return u
		}
		return u[:end] + " " + u[end:]
	})
}

func closes(c byte) bool { return c == ')' || c == ']' || c == '}' }

// balanced reports whether the closing bracket c at the end of u is matched
// by an opening one inside u.
func balanced(u string, c byte) bool {
	open := map[byte]string{')': "(", ']': "[", '}': "{"}[c]
	return strings.Count(u, open) >= strings.Count(u, string(c))
}
