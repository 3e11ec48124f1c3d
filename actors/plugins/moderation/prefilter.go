package moderation

import (
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A regex rule is only run on a line that contains one of the literals the
// regex cannot match without: most lines contain none, and a substring
// search is far cheaper than RE2 on every line for every rule. Both sides
// are case-folded to one representative per fold orbit, so (?i) literals
// keep exactly their meaning.

// maxLiterals bounds one regex's literal set; a wider one is no filter.
const maxLiterals = 16

// foldRune maps r to the smallest rune that case-folds to it.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// foldString folds every rune of s; ASCII without lower-case letters is
// returned as is.
func foldString(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('a' <= c && c <= 'z') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return strings.Map(foldRune, s)
}

// requiredLiterals returns folded strings of which every match of the
// regex contains at least one, or nil when no such set is known.
func requiredLiterals(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	lits := literalsOf(re.Simplify())
	if len(lits) == 0 || len(lits) > maxLiterals {
		return nil
	}
	return lits
}

func literalsOf(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return nil
		}
		return []string{foldString(string(re.Rune))}
	case syntax.OpCapture, syntax.OpPlus:
		return literalsOf(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literalsOf(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any part is required; keep the part whose shortest literal is
		// longest, the most selective filter.
		var best []string
		bestLen := 0
		for _, sub := range re.Sub {
			lits := literalsOf(sub)
			if len(lits) == 0 || len(lits) > maxLiterals {
				continue
			}
			if l := shortest(lits); l > bestLen {
				best, bestLen = lits, l
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			lits := literalsOf(sub)
			if len(lits) == 0 {
				return nil // a branch that needs nothing matches without any
			}
			all = append(all, lits...)
		}
		return all
	}
	return nil
}

func shortest(lits []string) int {
	n := -1
	for _, l := range lits {
		if c := utf8.RuneCountInString(l); n < 0 || c < n {
			n = c
		}
	}
	return n
}

// mayMatch reports whether folded contains one of lits (nil: always).
func mayMatch(lits []string, folded string) bool {
	if lits == nil {
		return true
	}
	for _, l := range lits {
		if strings.Contains(folded, l) {
			return true
		}
	}
	return false
}
