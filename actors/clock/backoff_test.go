package clock

import (
	"testing"
	"time"
)

func TestBackoffDoublesToTheCap(t *testing.T) {
	s := time.Second
	cases := []struct {
		base, max time.Duration
		n         int
		want      time.Duration
	}{
		{2 * s, 300 * s, 0, 2 * s},
		{2 * s, 300 * s, 1, 2 * s},
		{2 * s, 300 * s, 2, 4 * s},
		{2 * s, 300 * s, 8, 256 * s},
		{2 * s, 300 * s, 9, 300 * s},
		{2 * s, 300 * s, 10_000, 300 * s}, // no overflow however long the outage
		{3 * s, 2 * s, 1, 2 * s},          // a base above the cap is capped
		{0, 5 * s, 4, 0},
	}
	for _, c := range cases {
		if got := Backoff(c.base, c.max, c.n); got != c.want {
			t.Errorf("Backoff(%v, %v, %d) = %v, want %v", c.base, c.max, c.n, got, c.want)
		}
	}
}
