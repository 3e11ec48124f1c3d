package clock

import "time"

// Backoff is the delay before retry n (1-based) of a capped exponential
// schedule: min(limit, base·2^(n-1)). Every retry loop in daz (connection,
// writer, plugin and guardian restarts, migrations) takes its delays from
// here; jitter, where wanted, is applied by the caller.
func Backoff(base, limit time.Duration, n int) time.Duration {
	if base <= 0 || limit <= 0 {
		return 0
	}
	d := base
	for i := 1; i < n; i++ {
		if d >= limit/2 {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}
