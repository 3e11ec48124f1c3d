package moderation

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxDuration is the longest tempban or timed mute; anything longer is
// better written as a plain ban.
const MaxDuration = 365 * 24 * time.Hour

// ParseDuration reads "90s", "10m", "1h30m", "2d" or "1w". Unlike !remind a
// bare number is not a duration: "!mute bob 5 spam" would be ambiguous.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var total time.Duration
	for rest := s; rest != ""; {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, fmt.Errorf("bad duration %q (use e.g. 90s, 10m, 1h30m, 2d)", s)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n > 1_000_000 {
			return 0, fmt.Errorf("bad number in duration %q", s)
		}
		unit, ok := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour,
			'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[rest[i]]
		if !ok {
			return 0, fmt.Errorf("unknown unit %q in duration %q", rest[i], s)
		}
		total += time.Duration(n) * unit
		if total > MaxDuration {
			return 0, fmt.Errorf("duration %q is over a year", s)
		}
		rest = rest[i+1:]
	}
	if total <= 0 {
		return 0, fmt.Errorf("duration %q is not positive", s)
	}
	return total, nil
}

// looksLikeDuration tells an optional duration argument from the first word
// of a reason.
func looksLikeDuration(s string) bool {
	_, err := ParseDuration(s)
	return err == nil
}
