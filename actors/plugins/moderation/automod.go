package moderation

import (
	"hash/maphash"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/daz-bot/daz/actors/clock"
)

// Automod tunables.
const (
	// strikeWindow is how long a user's violations count towards the
	// ladder.
	strikeWindow = 10 * time.Minute
	// coalesceWindow merges violations of one user: within it after an
	// action, further lines are the same offence, not new commands.
	coalesceWindow = 3 * time.Second
	// maxTracked bounds the per-user state; quiet users are forgotten.
	maxTracked = 5000
)

// automod holds the compiled rules of one channel and what it remembers of
// each chatter. It is plain data, used only by the plugin actor.
type automod struct {
	clk    clock.Clock
	rules  []*Rule // by id
	loaded bool

	wordIdx  map[string][]int // lower-case word -> rule indexes
	linkIdx  map[string][]int // domain -> rule indexes
	hasCaps  bool
	regexes  []int // indexes of the regex rules
	caps     []int // indexes of the caps rules
	stateful bool  // repeat or flood rules exist

	maxWindow time.Duration // longest repeat or flood window

	seed  maphash.Seed
	users map[string]*chatter
	hits  []bool // scratch, one per rule
	// Scratch for the current line's history, newest first: the age of
	// each line, and how many lines up to it equal the current one.
	ages []time.Duration
	same []int
}

// chatter is what automod remembers of one user.
type chatter struct {
	lines    []line // recent lines, oldest first
	strikes  int
	strikeAt time.Time
	actedAt  time.Time
}

type line struct {
	hash uint64
	at   time.Time
}

// hit is a rule tripped by a line.
type hit struct {
	rule *Rule
	// action is what the ladder makes of it for this user.
	action string
	dur    time.Duration
}

func newAutomod(clk clock.Clock) *automod {
	a := &automod{clk: clk, seed: maphash.MakeSeed(), users: map[string]*chatter{}}
	a.setRules(nil)
	return a
}

// setRules replaces the rule set and rebuilds the indexes.
func (a *automod) setRules(rules []*Rule) {
	a.rules = rules
	a.wordIdx = map[string][]int{}
	a.linkIdx = map[string][]int{}
	a.hasCaps, a.stateful, a.maxWindow = false, false, 0
	a.regexes, a.caps = nil, nil
	for i, r := range rules {
		switch r.Kind {
		case KindRegex:
			a.regexes = append(a.regexes, i)
		case KindWord:
			for _, w := range r.words {
				a.wordIdx[w] = append(a.wordIdx[w], i)
			}
		case KindLink:
			for _, d := range r.domains {
				a.linkIdx[d] = append(a.linkIdx[d], i)
			}
		case KindCaps:
			a.hasCaps = true
			a.caps = append(a.caps, i)
		case KindRepeat, KindFlood:
			a.stateful = true
			a.maxWindow = max(a.maxWindow, r.window)
		}
	}
	a.hits = make([]bool, len(rules))
}

// forget drops a user's chat history (they rejoined), keeping strikes.
func (a *automod) forget(name string) {
	if c, ok := a.users[strings.ToLower(name)]; ok {
		c.lines = c.lines[:0]
	}
}

// match marks in a.hits every rule text trips, user's history aside; it
// reports whether any did.
func (a *automod) match(text string) bool {
	clear(a.hits)
	found := false
	mark := func(idx []int) {
		for _, i := range idx {
			a.hits[i] = true
			found = true
		}
	}
	if len(a.wordIdx) > 0 || len(a.linkIdx) > 0 {
		lower := strings.ToLower(text)
		if len(a.wordIdx) > 0 {
			for w := range strings.FieldsFuncSeq(lower, func(c rune) bool { return !isWordRune(c) }) {
				mark(a.wordIdx[w])
			}
		}
		if len(a.linkIdx) > 0 {
			for f := range strings.FieldsSeq(lower) {
				host := linkHost(f)
				for host != "" {
					mark(a.linkIdx[host])
					_, parent, ok := strings.Cut(host, ".")
					if !ok || !strings.Contains(parent, ".") {
						break
					}
					host = parent
				}
			}
		}
	}
	var upper, letters int
	if a.hasCaps {
		for _, c := range text {
			if unicode.IsLetter(c) {
				letters++
				if unicode.IsUpper(c) {
					upper++
				}
			}
		}
	}
	if len(a.regexes) > 0 {
		folded := foldString(text)
		for _, i := range a.regexes {
			r := a.rules[i]
			if mayMatch(r.lits, folded) && r.re.MatchString(text) {
				a.hits[i], found = true, true
			}
		}
	}
	if a.hasCaps {
		n := utf8.RuneCountInString(text)
		for _, i := range a.caps {
			r := a.rules[i]
			if n >= r.capsMin && letters > 0 && float64(upper) >= r.capsShare*float64(letters) {
				a.hits[i], found = true, true
			}
		}
	}
	return found
}

// linkHost is the host of a word that is a link ("https://x.y/z",
// "www.x.y"), or "".
func linkHost(word string) string {
	switch {
	case strings.HasPrefix(word, "http://"):
		word = word[len("http://"):]
	case strings.HasPrefix(word, "https://"):
		word = word[len("https://"):]
	case strings.HasPrefix(word, "www."):
	default:
		return ""
	}
	if i := strings.IndexAny(word, "/?#:"); i >= 0 {
		word = word[:i]
	}
	return strings.TrimPrefix(word, "www.")
}

// check looks at one chat line of user (of rank rank) and returns the rule
// it trips with the action the ladder picks, or nil. Rules apply only below
// their rank; the caller has already left out the bot, staff and [server].
func (a *automod) check(user string, rank float64, text string) *hit {
	if len(a.rules) == 0 {
		return nil
	}
	now := a.clk.Now()
	key := strings.ToLower(user)
	var c *chatter
	if a.stateful {
		c = a.chatter(key)
		c.lines = append(c.lines, line{hash: maphash.String(a.seed, strings.ToLower(strings.TrimSpace(text))), at: now})
		c.trim(now, a.maxWindow)
		a.history(c, now)
	}
	a.match(text)
	for i, r := range a.rules {
		if rank >= r.BelowRank {
			continue
		}
		tripped := a.hits[i]
		switch r.Kind {
		case KindRepeat:
			tripped = a.repeats(r.window) >= r.count
		case KindFlood:
			tripped = a.within(r.window) >= r.count
		}
		if !tripped {
			continue
		}
		if c == nil {
			c = a.chatter(key)
		}
		if !c.actedAt.IsZero() && now.Sub(c.actedAt) < coalesceWindow {
			return nil // the same offence, already dealt with
		}
		h := &hit{rule: r, action: r.Action, dur: r.Duration}
		if !r.DryRun {
			if c.strikeAt.IsZero() || now.Sub(c.strikeAt) > strikeWindow {
				c.strikes = 0
			}
			step := ladderStep(r.Action) + c.strikes
			if step >= len(ladder) {
				step = len(ladder) - 1
			}
			if step != ladderStep(r.Action) {
				h.action, h.dur = ladder[step].action, ladder[step].dur
			}
			c.strikes++
			c.strikeAt = now
		}
		c.actedAt = now
		return h
	}
	return nil
}

// test lists the rules a sample line trips, ignoring ranks and history.
func (a *automod) test(text string) []*Rule {
	a.match(text)
	var out []*Rule
	for i, r := range a.rules {
		if a.hits[i] {
			out = append(out, r)
		}
	}
	return out
}

func (a *automod) chatter(key string) *chatter {
	c, ok := a.users[key]
	if !ok {
		if len(a.users) >= maxTracked {
			a.prune()
		}
		c = &chatter{}
		a.users[key] = c
	}
	return c
}

// prune forgets users with nothing recent to remember.
func (a *automod) prune() {
	now := a.clk.Now()
	for k, c := range a.users {
		last := c.strikeAt
		if n := len(c.lines); n > 0 && c.lines[n-1].at.After(last) {
			last = c.lines[n-1].at
		}
		if now.Sub(last) > strikeWindow {
			delete(a.users, k)
		}
	}
}

func (c *chatter) trim(now time.Time, keep time.Duration) {
	i := 0
	for i < len(c.lines) && now.Sub(c.lines[i].at) > keep {
		i++
	}
	if i > 0 {
		c.lines = append(c.lines[:0], c.lines[i:]...)
	}
	if len(c.lines) > 200 {
		c.lines = append(c.lines[:0], c.lines[len(c.lines)-200:]...)
	}
}

// history fills the scratch view of c's lines for the current one.
func (a *automod) history(c *chatter, now time.Time) {
	a.ages, a.same = a.ages[:0], a.same[:0]
	last := c.lines[len(c.lines)-1].hash
	n := 0
	for i := len(c.lines) - 1; i >= 0; i-- {
		if c.lines[i].hash == last {
			n++
		}
		a.ages = append(a.ages, now.Sub(c.lines[i].at))
		a.same = append(a.same, n)
	}
}

// within counts the user's lines of the last w, the current one included.
func (a *automod) within(w time.Duration) int {
	k, _ := slices.BinarySearchFunc(a.ages, w, func(age, w time.Duration) int {
		if age <= w {
			return -1
		}
		return 1
	})
	return k
}

// repeats counts the user's lines of the last w equal to the current one.
func (a *automod) repeats(w time.Duration) int {
	if k := a.within(w); k > 0 {
		return a.same[k-1]
	}
	return 0
}
