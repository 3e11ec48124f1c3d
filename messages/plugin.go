package messages

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Command is a routed chat or PM command delivered to the plugin that owns it
// (topic plugin.request.command).
type Command struct {
	Channel string
	Name    string   // canonical command name (aliases resolved)
	Invoked string   // what the user typed, without the prefix
	Args    []string // whitespace-separated arguments
	ArgText string   // everything after the command word, trimmed
	User    string
	Rank    float64
	PM      bool // answer by PM instead of in chat
	At      time.Time
}

// Refusal is sent by a plugin to its channel's EventFilter when it cannot
// serve a routed command (the database is away, the plugin is disabled).
// The EventFilter answers the user with Text through the same throttle as
// its own refusals (once per window per user and command) and logs Reason.
type Refusal struct {
	Channel string
	Command string // canonical name
	User    string
	PM      bool
	Reason  string // for the log
	Text    string // for the user
}

// PluginNotify carries an event a plugin subscribed to (topic
// plugin.request.notify), e.g. a user joining for the tell plugin.
// A chat line the server replayed in the join burst has Event.Backlog set;
// only subscribers that asked for those get them.
type PluginNotify struct {
	Channel string
	Event   *Event
}

// PluginRequest is a request from one plugin to another, routed by the
// EventFilter by plugin name (topic plugin.request.<Kind>). Plugins never hold
// each other's PIDs. The answer, if any, goes back to ReplyTo as a
// PluginResponse.
type PluginRequest struct {
	Channel string
	Plugin  string // target plugin name
	Kind    string
	Args    map[string]string
	ReplyTo *actor.PID
}

// PluginResponse answers a PluginRequest.
type PluginResponse struct {
	Kind   string
	Values map[string]string
	Err    error
}

// CommandAnswered is published on the EventStream when a plugin queues the
// reply to a command (topic plugin.answered), for the command latency metric.
type CommandAnswered struct {
	Channel string
	Command string
	Latency time.Duration // from the command's frame arriving to its reply being queued
}
