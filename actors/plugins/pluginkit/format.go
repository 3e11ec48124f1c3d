package pluginkit

import (
	"fmt"
	"strings"
	"time"
)

// FormatDuration renders d for chat, coarsely: "3d 4h", "2h 5m", "7m 3s",
// "12s".
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	hours := d / time.Hour
	d -= hours * time.Hour
	mins := d / time.Minute
	d -= mins * time.Minute
	secs := d / time.Second
	parts := []string{}
	add := func(n time.Duration, unit string) {
		if n > 0 && len(parts) < 2 {
			parts = append(parts, fmt.Sprintf("%d%s", n, unit))
		}
	}
	switch {
	case days > 0:
		add(days, "d")
		add(hours, "h")
	case hours > 0:
		add(hours, "h")
		add(mins, "m")
	default:
		add(mins, "m")
		add(secs, "s")
	}
	if len(parts) == 0 {
		return "0s"
	}
	return strings.Join(parts, " ")
}

// Ago renders the time from then to now: "3h 2m ago", "just now".
func Ago(now, then time.Time) string {
	d := now.Sub(then)
	if d < time.Second {
		return "just now"
	}
	return FormatDuration(d) + " ago"
}
