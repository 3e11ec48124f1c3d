package eventfilter

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/messages"
)

// PluginName is the name the EventFilter answers to as a plugin: it owns the
// built-in !reload command and answers PluginRequests addressed to it.
const PluginName = "eventfilter"

// Props returns the EventFilter of one channel.
func Props(sys *actorkit.System, cfg Config) (*actor.Props, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// Ranks outlive a restart of the actor: the server only sends the full
	// user list on join.
	r := newRoster()
	return sys.Props("eventfilter", func() actor.Actor {
		return &filter{
			cfg:    cfg,
			sys:    sys,
			log:    cfg.Logger.With(slog.String("channel", cfg.Channel), slog.String("actor", "eventfilter")),
			roster: r,
			reg:    newRegistry(),
			lim:    newLimits(),
			subs:   map[string]subscription{},
			dirty:  map[string]*command{},
		}
	}), nil
}

type subscription struct {
	owner   *actor.PID
	events  []string
	backlog bool
}

type counters struct {
	Events    uint64 `json:"events"`
	Commands  uint64 `json:"commands"`
	Routed    uint64 `json:"routed"`
	Blocked   uint64 `json:"blocked"`
	Unknown   uint64 `json:"unknown"`
	Ignored   uint64 `json:"ignored"`
	Backlog   uint64 `json:"backlog_skipped"`
	Notified  uint64 `json:"notified"`
	Refusals  uint64 `json:"refusals"`
	SQLErrors uint64 `json:"sql_errors"`
}

// State is what the EventFilter shows on the debug endpoint.
type State struct {
	Users      int       `json:"users"`
	Commands   int       `json:"commands"`
	Plugins    []string  `json:"plugins"`
	Ignored    int       `json:"ignored_users"`
	LastReload time.Time `json:"last_reload,omitzero"`
	ReloadErr  string    `json:"reload_error,omitempty"`
	Pending    int       `json:"unsaved_commands"`
	counters
}

type reloadTick struct{}

type filter struct {
	cfg    Config
	sys    *actorkit.System
	log    *slog.Logger
	roster *roster
	reg    *registry
	lim    *limits
	subs   map[string]subscription
	dirty  map[string]*command // registered but not yet saved
	saving bool                // a round of saveDirty is on its way
	timer  clock.Timer
	sqlID  uint64
	stats  counters

	lastReload time.Time
	reloadErr  string
}

func (f *filter) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		own, _ := f.reg.replace(PluginName, ctx.Self(), builtins(), "")
		for _, c := range own {
			f.dirty[c.spec.Name] = c
		}
		f.sys.Publish(&messages.EventFilterReady{Channel: f.cfg.Channel})
		f.reload(ctx, nil)
		f.saveDirty(ctx)
		f.schedule(ctx)
		f.publishState(ctx)
	case *actor.Stopping, *actor.Restarting:
		if f.timer != nil {
			f.timer.Stop()
		}
	case *messages.Event:
		f.onEvent(ctx, m)
	case *messages.RegisterPlugin:
		f.onRegister(ctx, m)
	case *messages.ListCommands:
		ctx.Respond(&messages.CommandList{Channel: f.cfg.Channel, Commands: f.reg.list()})
	case *messages.PluginRequest:
		f.onPluginRequest(ctx, m)
	case *messages.Command:
		f.onOwnCommand(ctx, m)
	case *messages.Refusal:
		f.onRefusal(ctx, m)
	case *actor.Terminated:
		// A plugin stopped for good (the plugins' host passes its end on):
		// its commands stay, unavailable, so they are answered rather
		// than lost.
		f.onTerminated(ctx, m.Who)
	case reloadTick:
		f.reload(ctx, nil)
		f.saveDirty(ctx)
		f.lim.prune(f.cfg.Clock.Now(), f.pruneHorizon())
		f.schedule(ctx)
	}
}

func (f *filter) schedule(ctx actor.Context) {
	self := ctx.Self()
	f.timer = f.sys.SendAfter(f.cfg.ReloadEvery, self, reloadTick{})
}

func (f *filter) onEvent(ctx actor.Context, ev *messages.Event) {
	if ev.Channel != f.cfg.Channel {
		return
	}
	f.stats.Events++
	f.roster.observe(ev)
	switch b := ev.Body.(type) {
	case *messages.ChatMsg:
		f.onChat(ctx, ev, b)
	case *messages.Pm:
		f.onPM(ctx, ev, b)
	case *messages.UserList:
		f.publishState(ctx)
	}
	if ev.Backlog {
		f.stats.Backlog++
	}
	f.notify(ctx, ev)
}

// notify forwards ev to every plugin that subscribed to its name (or "*");
// join backlog only to those that asked for it.
func (f *filter) notify(ctx actor.Context, ev *messages.Event) {
	for _, s := range f.subs {
		if ev.Backlog && !s.backlog {
			continue
		}
		if slices.Contains(s.events, ev.Name) || slices.Contains(s.events, "*") {
			ctx.Send(s.owner, &messages.PluginNotify{Channel: f.cfg.Channel, Event: ev})
			f.stats.Notified++
		}
	}
}

func (f *filter) onRegister(ctx actor.Context, m *messages.RegisterPlugin) {
	if m.Plugin == "" || m.Owner == nil {
		f.log.Warn("registration without plugin name or owner ignored", slog.String("plugin", m.Plugin))
		return
	}
	if m.Plugin == PluginName && !m.Owner.Equal(ctx.Self()) {
		f.log.Warn("a plugin tried to register under the EventFilter's own name", slog.String("owner", m.Owner.Id))
		return
	}
	// The subscription first: the commands route from here on, and the
	// events they rely on must flow from the same moment.
	if len(m.Events) == 0 {
		delete(f.subs, m.Plugin)
	} else {
		f.subs[m.Plugin] = subscription{owner: m.Owner, events: slices.Clone(m.Events), backlog: m.Backlog}
	}
	changed, refused := f.reg.replace(m.Plugin, m.Owner, m.Commands, m.Unavailable)
	for _, r := range refused {
		f.log.Warn("command declaration refused", slog.String("plugin", m.Plugin), slog.String("reason", r))
	}
	for _, c := range changed {
		f.dirty[c.spec.Name] = c
	}
	f.saveDirty(ctx)
	f.publishState(ctx)
}

// onPluginRequest routes a request to the plugin it names, keeping the
// original sender so the target's Respond reaches the asker.
func (f *filter) onPluginRequest(ctx actor.Context, m *messages.PluginRequest) {
	if m.Plugin == PluginName {
		f.answer(ctx, m, &messages.PluginResponse{Kind: m.Kind, Err: fmt.Errorf("eventfilter: unknown request kind %q (use ListCommands)", m.Kind)})
		return
	}
	owner, ok := f.reg.plugins[m.Plugin]
	if !ok {
		f.answer(ctx, m, &messages.PluginResponse{Kind: m.Kind, Err: fmt.Errorf("eventfilter: no plugin named %q on channel %s", m.Plugin, f.cfg.Channel)})
		return
	}
	ctx.Forward(owner)
}

func (f *filter) answer(ctx actor.Context, m *messages.PluginRequest, res *messages.PluginResponse) {
	switch {
	case m.ReplyTo != nil:
		ctx.Send(m.ReplyTo, res)
	case ctx.Sender() != nil:
		ctx.Respond(res)
	}
}

// onTerminated marks the commands of a stopped plugin unavailable.
func (f *filter) onTerminated(ctx actor.Context, who *actor.PID) {
	for _, c := range f.reg.byName {
		if c.owner.Equal(who) && c.unavailable == "" {
			c.unavailable = "plugin stopped"
		}
	}
	f.publishState(ctx)
}

func (f *filter) pruneHorizon() time.Duration {
	h := max(f.cfg.RefusalCooldown, rateWindow)
	for _, c := range f.reg.byName {
		h = max(h, c.cooldown)
	}
	return h
}

func (f *filter) publishState(ctx actor.Context) {
	st := State{
		Users:    len(f.roster.ranks),
		Commands: len(f.reg.byName), Ignored: len(f.lim.ignored), LastReload: f.lastReload,
		ReloadErr: f.reloadErr, Pending: len(f.dirty), counters: f.stats,
	}
	for p := range f.reg.plugins {
		st.Plugins = append(st.Plugins, p)
	}
	slices.Sort(st.Plugins)
	f.sys.Tree().SetState(ctx.Self().Id, st)
}
