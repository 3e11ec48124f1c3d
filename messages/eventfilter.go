package messages

import "time"

// RouteDecision is what the EventFilter did with one event.
type RouteDecision string

// The decisions published as eventfilter.route.
const (
	RouteRouted          RouteDecision = "routed"
	RouteBlockedRank     RouteDecision = "blocked-rank"
	RouteBlockedCooldown RouteDecision = "blocked-cooldown"
	RouteUnknown         RouteDecision = "unknown"
	RouteIgnored         RouteDecision = "ignored"
)

// Route is published on the EventStream for each command the EventFilter
// looked at (topic eventfilter.route).
type Route struct {
	Channel  string
	Command  string
	User     string
	Decision RouteDecision
	Plugin   string
	Reason   string
	At       time.Time
}
