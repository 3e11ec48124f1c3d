package messages

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

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

// CommandSpec declares one command and the preconditions the EventFilter
// checks before the owning plugin ever sees it.
type CommandSpec struct {
	Name        string
	Aliases     []string
	MinRank     float64
	Cooldown    time.Duration // per user and command
	PMAllowed   bool
	Description string
	Usage       string
}

// RegisterCommands is sent by a plugin to its channel's EventFilter when it
// starts (and again after a restart); the EventFilter records the commands in
// daz_eventfilter_cmds and routes them to Owner.
type RegisterCommands struct {
	Plugin   string
	Owner    *actor.PID
	Commands []CommandSpec
}
