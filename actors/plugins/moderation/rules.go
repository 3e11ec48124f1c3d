package moderation

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"
)

// Rule kinds.
const (
	KindWord   = "word"
	KindRegex  = "regex"
	KindLink   = "link"
	KindCaps   = "caps"
	KindRepeat = "repeat"
	KindFlood  = "flood"
)

// Limits that keep a rule sane; anything past them is refused with the
// reason.
const (
	maxPatternLen   = 500
	maxListItems    = 50
	maxWordLen      = 50
	maxRegexInsts   = 1000
	maxRuleDuration = 30 * 24 * time.Hour
	defaultBelow    = 2
	defaultCapsMin  = 12
)

// ladder is the escalation ladder: a rule's own action is the first step,
// each repeat within the window climbs one step from there.
var ladder = []struct {
	action string
	dur    time.Duration
}{{"warn", 0}, {"mute", 5 * time.Minute}, {"kick", 0}, {"tempban", time.Hour}}

func ladderStep(action string) int {
	for i, s := range ladder {
		if s.action == action {
			return i
		}
	}
	return 0
}

// Rule is one automod rule, parsed and compiled.
type Rule struct {
	ID        int64
	Kind      string
	Pattern   string
	Action    string
	Duration  time.Duration
	BelowRank float64
	DryRun    bool

	words     []string       // word: lower-case whole words
	re        *regexp.Regexp // regex
	lits      []string       // regex: one of these is in every match (nil: unknown)
	domains   []string       // link: lower-case domains (subdomains match too)
	capsShare float64        // caps: share of letters in upper case, 0..1
	capsMin   int            // caps: lines shorter than this are left alone
	count     int            // repeat, flood
	window    time.Duration  // repeat, flood
}

// String is the rule as !automod list shows it.
func (r *Rule) String() string {
	s := fmt.Sprintf("#%d %s %s → %s", r.ID, r.Kind, r.Pattern, r.Action)
	if r.Duration > 0 {
		s += " " + formatDur(r.Duration)
	}
	if r.BelowRank != defaultBelow {
		s += " (below rank " + formatRank(r.BelowRank) + ")"
	}
	if r.DryRun {
		s += " [dry-run]"
	}
	return s
}

func formatDur(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return strconv.Itoa(int(d/time.Second)) + "s"
}

// ParseRule checks and compiles a rule as typed in !automod add: kind,
// pattern, action and (for mute and tempban) a duration.
func ParseRule(kind, pattern, action, duration string) (*Rule, error) {
	r := &Rule{Kind: strings.ToLower(kind), Pattern: pattern, Action: strings.ToLower(action), BelowRank: defaultBelow}
	if pattern == "" {
		return nil, errors.New("the pattern is empty")
	}
	if len(pattern) > maxPatternLen {
		return nil, fmt.Errorf("the pattern is longer than %d characters", maxPatternLen)
	}
	if err := r.compile(); err != nil {
		return nil, err
	}
	switch r.Action {
	case "warn", "kick":
		if duration != "" {
			return nil, fmt.Errorf("%s takes no duration", r.Action)
		}
	case "mute", "tempban":
		if duration == "" {
			return nil, fmt.Errorf("%s needs a duration, e.g. 5m", r.Action)
		}
		d, err := ParseDuration(duration)
		if err != nil {
			return nil, err
		}
		if d > maxRuleDuration {
			return nil, fmt.Errorf("a rule's %s lasts at most 30d", r.Action)
		}
		r.Duration = d
	default:
		return nil, fmt.Errorf("unknown action %q (warn, mute <d>, kick, tempban <d>)", action)
	}
	return r, nil
}

// compile builds the matcher of r.Kind from r.Pattern.
func (r *Rule) compile() error {
	switch r.Kind {
	case KindWord:
		words, err := splitList(r.Pattern, "word", func(w string) bool {
			for _, c := range w {
				if !isWordRune(c) {
					return false
				}
			}
			return len(w) <= maxWordLen
		})
		if err != nil {
			return fmt.Errorf("%w (letters and digits only; use a regex for phrases)", err)
		}
		r.words = words
	case KindRegex:
		if err := regexSize(r.Pattern); err != nil {
			return err
		}
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			return fmt.Errorf("invalid regex: %w", err)
		}
		if re.MatchString("") {
			return errors.New("the regex matches an empty line, so it would match every line")
		}
		r.re = re
		r.lits = requiredLiterals(r.Pattern)
	case KindLink:
		domains, err := splitList(r.Pattern, "domain", validDomain)
		if err != nil {
			return err
		}
		r.domains = domains
	case KindCaps:
		share, min, err := parseCaps(r.Pattern)
		if err != nil {
			return err
		}
		r.capsShare, r.capsMin = share, min
	case KindRepeat, KindFlood:
		n, w, err := parseRate(r.Kind, r.Pattern)
		if err != nil {
			return err
		}
		r.count, r.window = n, w
	default:
		return fmt.Errorf("unknown kind %q (word, regex, link, caps, repeat, flood)", r.Kind)
	}
	return nil
}

// regexSize refuses a regex whose compiled program is so large that every
// chat line would pay for it (RE2 time is linear in the program size).
func regexSize(pattern string) error {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return fmt.Errorf("invalid regex: %w", err)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return fmt.Errorf("invalid regex: %w", err)
	}
	if len(prog.Inst) > maxRegexInsts {
		return fmt.Errorf("the regex is too complex (%d steps, at most %d)", len(prog.Inst), maxRegexInsts)
	}
	return nil
}

func isWordRune(c rune) bool {
	return c == '_' || c == '-' || c == '\'' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c > 0x7f && c != 0xfffd
}

func splitList(pattern, what string, ok func(string) bool) ([]string, error) {
	parts := strings.Split(strings.ToLower(pattern), ",")
	if len(parts) > maxListItems {
		return nil, fmt.Errorf("at most %d %ss per rule", maxListItems, what)
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p == "" || !ok(p) {
			return nil, fmt.Errorf("%q is not a valid %s", p, what)
		}
		out = append(out, p)
	}
	return out, nil
}

func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") ||
		strings.Contains(d, "..") {
		return false
	}
	for _, c := range d {
		if c != '.' && c != '-' && (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// parseCaps reads "70%" or "70%/12": the share of capitals, and the length
// from which a line is judged.
func parseCaps(p string) (float64, int, error) {
	share, minText, hasMin := strings.Cut(p, "/")
	pct, err := strconv.Atoi(strings.TrimSuffix(share, "%"))
	if err != nil || pct < 50 || pct > 100 {
		return 0, 0, fmt.Errorf("caps wants a share of 50%%–100%%, e.g. 70%% or 70%%/12, not %q", p)
	}
	min := defaultCapsMin
	if hasMin {
		min, err = strconv.Atoi(minText)
		if err != nil || min < 5 || min > 320 {
			return 0, 0, fmt.Errorf("caps judges lines of 5–320 characters, not %q", minText)
		}
	}
	return float64(pct) / 100, min, nil
}

// parseRate reads "N/T" (N lines in T) for repeat and flood.
func parseRate(kind, p string) (int, time.Duration, error) {
	nText, tText, ok := strings.Cut(p, "/")
	n, err := strconv.Atoi(nText)
	lo, hi, maxWindow := 2, 50, time.Hour
	if kind == KindFlood {
		lo, hi, maxWindow = 3, 100, 10*time.Minute
	}
	if !ok || err != nil || n < lo || n > hi {
		return 0, 0, fmt.Errorf("%s wants N/T with N from %d to %d, e.g. %d/30s", kind, lo, hi, lo+1)
	}
	w, err := ParseDuration(tText)
	if err != nil {
		return 0, 0, err
	}
	if w > maxWindow {
		return 0, 0, fmt.Errorf("%s looks at most %s back", kind, formatDur(maxWindow))
	}
	return n, w, nil
}
