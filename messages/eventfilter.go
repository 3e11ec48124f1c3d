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
// daz_eventfilter_cmds and routes them to Owner. Each registration replaces
// the plugin's whole command set, which is how custom commands come and go.
type RegisterCommands struct {
	Plugin   string
	Owner    *actor.PID
	Commands []CommandSpec
	// Unavailable, when set, says why the plugin cannot serve its commands
	// (disabled after repeated failures): the EventFilter then answers them
	// with a refusal instead of routing them, so none vanishes silently.
	Unavailable string
}

// SubscribeEvents is sent by a plugin to its channel's EventFilter, alongside
// RegisterCommands, to receive live server events by Socket.IO name ("chatMsg",
// "addUser", "changeMedia", ...) as PluginNotify. A new SubscribeEvents from
// the same Plugin replaces its earlier list. Replayed join-backlog chat is
// forwarded only with Backlog set, flagged Event.Backlog (the text
// log wants the lines said while daz was away; commands must not run twice).
type SubscribeEvents struct {
	Plugin  string
	Owner   *actor.PID
	Events  []string
	Backlog bool
}

// EventFilterReady is published on the EventStream each time a channel's
// EventFilter starts with an empty registry (first start or restart); plugins
// answer by sending RegisterCommands and SubscribeEvents again.
type EventFilterReady struct {
	Channel string
}

// ListCommands asks the EventFilter for its current command table; it answers
// the sender with a CommandList.
type ListCommands struct {
	Channel string
}

// CommandInfo is one routed command as the EventFilter applies it: the
// plugin's declaration with the operator's overrides from
// daz_eventfilter_cmds already merged in.
type CommandInfo struct {
	Name        string
	Plugin      string
	Aliases     []string
	MinRank     float64
	Cooldown    time.Duration
	PMAllowed   bool
	Enabled     bool
	Description string
	Usage       string
}

// CommandList answers ListCommands, sorted by name.
type CommandList struct {
	Channel  string
	Commands []CommandInfo
}
