package pluginkit

import (
	"fmt"
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/messages"
)

// Registration is what a plugin declares to its EventFilter: the commands it
// owns (the EventFilter checks rank, cooldown and the rest before the plugin
// sees one) and the server events it wants as PluginNotify.
type Registration struct {
	Commands []messages.CommandSpec
	Events   []string
	// Backlog asks for the join burst's replayed chat too, flagged as such.
	Backlog bool
	// WatchConnection makes the Kit follow the channel's ConnectionState
	// (Connection reports it). It is set up before the plugin registers,
	// so whoever sees the commands routable also finds the plugin watching.
	WatchConnection bool
}

// Status is a plugin's life as shown on the actor tree.
type Status string

// The plugin statuses.
const (
	StatusRunning  Status = "running"
	StatusDisabled Status = "disabled"
)

// StatusRequest is the PluginRequest kind every plugin answers with its
// name and status; since a plugin handles its mailbox in order, the answer
// also tells the asker that everything routed to it before was handled.
const StatusRequest = "status"

// State is what a plugin shows on the debug endpoint.
type State struct {
	Plugin   string   `json:"plugin"`
	Status   Status   `json:"status"`
	Reason   string   `json:"reason,omitempty"`
	Commands []string `json:"commands,omitempty"`
	Events   []string `json:"events,omitempty"`
	Detail   any      `json:"detail,omitempty"`
}

// Kit is the plumbing one plugin actor embeds. It lives as long as one actor
// incarnation: a restarted plugin gets a fresh Kit from its producer and
// registers again in Started.
type Kit struct {
	// Deps is shared, read-only, by every plugin of a channel when the
	// Deps came from Deps.Shared (plugins.All does that).
	Deps     *Deps
	Name     string
	Log      *slog.Logger
	declare  func() Registration
	self     *actor.PID
	disabled bool
	reason   string // why the supervisor disabled us
	detail   any
	nextSQL  uint64
	watching bool
	conn     *Connection // nil until a ConnectionState arrives
	// commands and events are the names of the last registration, which
	// every later state shows: read-only, shared by each State published.
	commands, events []string
	registered       bool
}

// New makes the Kit of plugin name. declare is called every time the plugin
// registers, so a plugin whose commands change (custom commands) returns its
// current set.
func New(deps Deps, name string, declare func() Registration) *Kit {
	shared := deps.shared
	if shared == nil {
		d := deps.WithDefaults()
		shared = &d
	}
	return &Kit{
		Deps:    shared,
		Name:    name,
		Log:     shared.Logger.With(slog.String("channel", shared.Channel), slog.String("actor", "plugin/"+name)),
		declare: declare,
	}
}

// Handle runs the plugin plumbing for the current message and reports whether
// the message is fully handled. Started returns false so the plugin can do
// its own start-up after the Kit has registered. A disabled plugin consumes
// every message.
func (k *Kit) Handle(ctx actor.Context) bool {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		k.self = ctx.Self()
		channel := k.Deps.Channel
		if k.Deps.System != nil {
			k.Deps.System.Subscribe(ctx, func(msg any) bool {
				r, ok := msg.(*messages.EventFilterReady)
				return ok && r.Channel == channel
			})
		}
		reg := k.declare()
		if reg.WatchConnection {
			k.watchConnection(ctx)
		}
		if k.Deps.Supervision != nil {
			if reason, off := k.Deps.Supervision.Disabled(ctx.Self().Id); off {
				k.disabled = true
				k.reason = reason
				k.Log.Error("plugin disabled by its supervisor after repeated failures; its commands are withdrawn",
					slog.String("reason", reason))
				k.withdraw(ctx)
				k.publish(StatusDisabled, reason, nil)
				return true
			}
		}
		k.register(ctx, reg)
		return false
	case *messages.EventFilterReady:
		if !k.disabled {
			k.Register(ctx)
		} else {
			k.withdraw(ctx)
		}
		return true
	case *messages.PluginRequest:
		switch {
		case m.Kind == StatusRequest:
			status := StatusRunning
			if k.disabled {
				status = StatusDisabled
			}
			k.answer(ctx, m, &messages.PluginResponse{Kind: StatusRequest,
				Values: map[string]string{"plugin": k.Name, "status": string(status)}})
			return true
		case k.disabled:
			k.answer(ctx, m, &messages.PluginResponse{Kind: m.Kind, Err: fmt.Errorf("plugin %s is disabled", k.Name)})
			return true
		}
		return false
	case *messages.ConnectionState:
		if k.watching {
			k.observeConnection(m)
			return true
		}
		return k.disabled
	case *messages.Command:
		if k.disabled {
			// Routed before the EventFilter heard we are disabled (it
			// waited in the mailbox through the restarts).
			k.Refuse(ctx, m, "plugin disabled: "+k.reason,
				fmt.Sprintf("Sorry %s, %s%s is unavailable right now.", m.User, k.Deps.Prefix, m.Name))
			return true
		}
		return false
	default:
		return k.disabled
	}
}

// answer replies to a PluginRequest at its ReplyTo, or to its sender.
func (k *Kit) answer(ctx actor.Context, m *messages.PluginRequest, res *messages.PluginResponse) {
	switch {
	case m.ReplyTo != nil:
		ctx.Send(m.ReplyTo, res)
	case ctx.Sender() != nil:
		ctx.Respond(res)
	}
}

// Disabled reports whether the supervisor has disabled this plugin.
func (k *Kit) Disabled() bool { return k.disabled }

// Register declares the plugin's current commands and events to the
// EventFilter. The declaration replaces the previous one.
func (k *Kit) Register(ctx actor.Context) { k.register(ctx, k.declare()) }

func (k *Kit) register(ctx actor.Context, reg Registration) {
	if k.Deps.EventFilter != nil {
		ctx.Send(k.Deps.EventFilter, &messages.RegisterPlugin{Plugin: k.Name, Owner: ctx.Self(), Commands: reg.Commands,
			Events: reg.Events, Backlog: reg.Backlog})
	}
	k.publish(StatusRunning, "", &reg)
}

// withdraw stops the plugin's commands routing: they stay declared, marked
// unavailable, so the EventFilter tells whoever types one why nothing
// happens.
func (k *Kit) withdraw(ctx actor.Context) {
	if k.Deps.EventFilter != nil {
		reason := "disabled: " + k.reason
		if k.reason == "" {
			reason = "disabled"
		}
		ctx.Send(k.Deps.EventFilter, &messages.RegisterPlugin{Plugin: k.Name, Owner: ctx.Self(),
			Commands: k.declare().Commands, Unavailable: reason})
	}
}

// SetDetail records plugin-specific state for the debug endpoint; it must be
// a value that is safe to read from another goroutine (a copied struct).
func (k *Kit) SetDetail(detail any) {
	k.detail = detail
	if k.disabled {
		return
	}
	k.publish(StatusRunning, "", nil)
}

func (k *Kit) publish(status Status, reason string, reg *Registration) {
	if k.Deps.System == nil || k.self == nil {
		return
	}
	if reg != nil || !k.registered {
		// A plugin's commands only change when it registers again
		// (custom commands do), so a detail update reuses the names
		// instead of building the whole declaration again.
		if reg == nil {
			r := k.declare()
			reg = &r
		}
		k.commands, k.events = nil, nil
		for _, c := range reg.Commands {
			k.commands = append(k.commands, c.Name)
		}
		k.events = append(k.events, reg.Events...)
		k.registered = true
	}
	st := State{Plugin: k.Name, Status: status, Reason: reason, Detail: k.detail}
	if status == StatusRunning {
		st.Commands, st.Events = k.commands, k.events
	}
	k.Deps.System.Tree().SetState(k.self.Id, st)
}
