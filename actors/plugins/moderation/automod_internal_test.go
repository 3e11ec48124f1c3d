package moderation

import (
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/clock"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustRule(t testing.TB, id int64, kind, pattern, action, dur string) *Rule {
	t.Helper()
	r, err := ParseRule(kind, pattern, action, dur)
	if err != nil {
		t.Fatalf("ParseRule(%s %s %s %s): %v", kind, pattern, action, dur, err)
	}
	r.ID = id
	return r
}

// TestRuleKinds: each kind trips on what it should and only on that.
func TestRuleKinds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		kind, pattern string
		lines         []string // said in order, 2 s apart
		want          []bool   // whether each trips
	}{
		{KindWord, "grapefruit,kiwi", []string{"I like GrapeFruit!", "grapefruits are fine", "kiwi"}, []bool{true, false, true}},
		{KindRegex, `(?i)free\s+nitro`, []string{"get FREE   nitro here", "nitro is free"}, []bool{true, false}},
		{KindRegex, `(?i)kiss|crypto\d+`, []string{"\u212aiſſ", "CRYPTO42", "crypto"}, []bool{true, true, false}},
		{KindLink, "spam.example,bad.test", []string{"see https://www.spam.example/x", "https://sub.bad.test?q=1",
			"https://notspam.example/", "spam.example without a scheme"}, []bool{true, true, false, false}},
		{KindCaps, "70%/10", []string{"THIS IS ALL CAPS", "SHORT", "This is Normal text", "ÉNORME CRI ICI"}, []bool{true, false, false, true}},
		{KindRepeat, "3/30s", []string{"buy now", "buy now", "hello", "BUY NOW"}, []bool{false, false, false, true}},
		{KindFlood, "4/10s", []string{"a", "b", "c", "d"}, []bool{false, false, false, true}},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			fake := clock.NewFake(t0)
			a := newAutomod(fake)
			a.setRules([]*Rule{mustRule(t, 1, tt.kind, tt.pattern, "warn", "")})
			for i, l := range tt.lines {
				// Far enough apart that coalescing never hides a hit.
				fake.Advance(2 * time.Second)
				h := a.check("alice", 1, l)
				if got := h != nil; got != tt.want[i] {
					t.Fatalf("line %d %q tripped=%v, want %v", i, l, got, tt.want[i])
				}
				if h != nil {
					a.users["alice"].actedAt = time.Time{} // judge each line alone
				}
			}
		})
	}
}

// TestLadder: the rule's own action first, then one step up per repeat
// within the window, capped at the top; a quiet window starts over.
func TestLadder(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		action, dur string
		want        []string
	}{
		{"warn", "", []string{"warn", "mute 5m0s", "kick", "tempban 1h0m0s", "tempban 1h0m0s"}},
		{"mute", "2m", []string{"mute 2m0s", "kick", "tempban 1h0m0s"}},
		{"tempban", "1d", []string{"tempban 24h0m0s", "tempban 24h0m0s"}}, // the top never shrinks a rule's own action
	} {
		fake := clock.NewFake(t0)
		a := newAutomod(fake)
		a.setRules([]*Rule{mustRule(t, 1, KindWord, "spam", tt.action, tt.dur)})
		var got []string
		for range tt.want {
			fake.Advance(5 * time.Second)
			h := a.check("alice", 0, "spam")
			if h == nil {
				t.Fatalf("%s: no hit", tt.action)
			}
			s := h.action
			if h.dur > 0 {
				s += " " + h.dur.String()
			}
			got = append(got, s)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Fatalf("ladder from %s = %v, want %v", tt.action, got, tt.want)
		}
		fake.Advance(strikeWindow + time.Second)
		if h := a.check("alice", 0, "spam"); h == nil || h.action != tt.action {
			t.Fatalf("after a quiet window: %+v, want %s again", h, tt.action)
		}
	}
}

// TestCoalesceDryRunAndRank: a burst of violations is one action; a dry-run
// rule trips without climbing the ladder; a rule leaves users at or above
// its rank alone.
func TestCoalesceDryRunAndRank(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(t0)
	a := newAutomod(fake)
	a.setRules([]*Rule{mustRule(t, 1, KindWord, "spam", "warn", "")})
	hits := 0
	for range 50 {
		fake.Advance(10 * time.Millisecond)
		if a.check("alice", 1, "spam spam") != nil {
			hits++
		}
	}
	if hits != 1 {
		t.Fatalf("50 violations in half a second gave %d actions, want 1", hits)
	}
	if h := a.check("mod", 2, "spam"); h != nil {
		t.Fatalf("rule below rank 2 acted on a moderator: %+v", h)
	}

	dry := mustRule(t, 2, KindWord, "spam", "mute", "5m")
	dry.DryRun = true
	a.setRules([]*Rule{dry})
	for range 3 {
		fake.Advance(5 * time.Second)
		h := a.check("bob", 0, "spam")
		if h == nil || !h.rule.DryRun || h.action != "mute" || h.dur != 5*time.Minute {
			t.Fatalf("dry-run hit = %+v, want mute 5m each time (no climbing)", h)
		}
	}
}

// TestAutomodTest: test names every content rule a line trips.
func TestAutomodTest(t *testing.T) {
	t.Parallel()
	a := newAutomod(clock.NewFake(t0))
	a.setRules([]*Rule{
		mustRule(t, 1, KindWord, "grapefruit", "warn", ""),
		mustRule(t, 2, KindRegex, "juice$", "kick", ""),
		mustRule(t, 3, KindLink, "bad.test", "kick", ""),
	})
	got := a.test("grapefruit juice")
	if len(got) != 2 || got[0].ID != 1 || got[1].ID != 2 {
		t.Fatalf("test tripped %v, want rules 1 and 2", got)
	}
}

// TestParseRuleRefusals: bad rules are refused with the reason.
func TestParseRuleRefusals(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ kind, pattern, action, dur, want string }{
		{"regex", "(", "warn", "", "invalid regex"},
		{"regex", ".*", "warn", "", "matches an empty line"},
		{"regex", "[a-z]{1000}", "warn", "", "too complex"},
		{"word", "two words", "warn", "", "not a valid word"},
		{"link", "nodot", "warn", "", "not a valid domain"},
		{"caps", "10%", "warn", "", "50%–100%"},
		{"caps", "70%/2", "warn", "", "5–320"},
		{"repeat", "1/10s", "warn", "", "N from 2 to 50"},
		{"flood", "1000/1s", "kick", "", "N from 3 to 100"},
		{"flood", "5/2h", "kick", "", "at most 10m"},
		{"word", "x", "ban", "", "unknown action"},
		{"word", "x", "mute", "", "needs a duration"},
		{"word", "x", "kick", "5m", "takes no duration"},
		{"word", "x", "tempban", "60d", "at most 30d"},
		{"shout", "x", "warn", "", "unknown kind"},
		{"word", strings.Repeat("a,", 300), "warn", "", "longer than"},
	} {
		_, err := ParseRule(tt.kind, tt.pattern, tt.action, tt.dur)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRule(%s %q %s %s) = %v, want an error with %q", tt.kind, tt.pattern, tt.action, tt.dur, err, tt.want)
		}
	}
}

// FuzzParseRule: parsing never panics, a rule that parses also matches
// without panicking, and its stored form parses again to the same rule.
func FuzzParseRule(f *testing.F) {
	for _, s := range [][4]string{
		{"word", "grapefruit", "mute", "5m"}, {"regex", `(?i)free\s+nitro`, "warn", ""},
		{"link", "spam.example,bad.test", "kick", ""}, {"caps", "70%/12", "warn", ""},
		{"repeat", "3/30s", "tempban", "1h"}, {"flood", "5/10s", "mute", "90s"}, {"regex", "(", "warn", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], "SOME line with https://spam.example/ and grapefruit")
		f.Add("regex", "(?i)kiss|x+y", "warn", "", "\u212aiſſ")
	}
	f.Fuzz(func(t *testing.T, kind, pattern, action, dur, line string) {
		r, err := ParseRule(kind, pattern, action, dur)
		if err != nil {
			return
		}
		again := &Rule{Kind: r.Kind, Pattern: r.Pattern, Action: r.Action, Duration: r.Duration, BelowRank: r.BelowRank}
		if err := again.compile(); err != nil {
			t.Fatalf("stored rule %v does not compile again: %v", r, err)
		}
		if r.re != nil && r.re.MatchString(line) && !mayMatch(r.lits, foldString(line)) {
			t.Fatalf("the literal filter %q of %q rejects %q, which the regex matches", r.lits, r.Pattern, line)
		}
		a := newAutomod(clock.NewFake(t0))
		r.ID = 1
		a.setRules([]*Rule{r})
		_ = a.check("x", 0, line)
		_ = a.test(line)
		_ = r.String()
	})
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "10m": 10 * time.Minute,
		"1h30m": 90 * time.Minute, "2d": 48 * time.Hour, "1w": 7 * 24 * time.Hour} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "5", "m", "0s", "10x", "400d", "-5m", "1h30"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}
