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

// RegisterPlugin is sent by a plugin to its channel's EventFilter when it
// starts (and again after a restart): the commands it serves and the live
// server events it follows, in one message, so that whoever sees the
// commands routable also finds the plugin subscribed (as two messages, a
// command could be routed to a plugin that had missed the userlist sent
// between them). Each registration replaces the plugin's whole command set
// and event list, which is how custom commands come and go.
type RegisterPlugin struct {
	Plugin string
	Owner  *actor.PID
	// Commands are recorded in daz_eventfilter_cmds and routed to Owner.
	Commands []CommandSpec
	// Events are Socket.IO names ("chatMsg", "addUser", "changeMedia", ...)
	// forwarded as PluginNotify; none stops the forwarding.
	Events []string
	// Backlog also forwards replayed join-backlog chat, flagged
	// Event.Backlog (the text log wants the lines said while daz was away;
	// commands must not run twice).
	Backlog bool
	// Unavailable, when set, says why the plugin cannot serve its commands
	// (disabled after repeated failures): the EventFilter then answers them
	// with a refusal instead of routing them, so none vanishes silently.
	Unavailable string
}

// EventFilterReady is published on the EventStream each time a channel's
// EventFilter starts with an empty registry (first start or restart); plugins
// answer by sending RegisterPlugin again.
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
