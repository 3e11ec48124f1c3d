// Package web is the plugin that feeds a channel's live events to the web
// server's hub (see package hub): chat lines, people joining and leaving,
// ranks, media changes and the connection state. It also gives the hub the
// channel's way to speak, so a "say" from the web goes through the outbound
// queue and is paced like any reply. It never touches the database: the web
// pages read history from PostgreSQL, the live view reads only the hub.
package web

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/web/hub"
	"github.com/daz-bot/daz/messages"
)

// Name is the plugin's name in the registry and on the tree.
const Name = "web"

// Events are the server events the plugin asks the EventFilter for. "pm" is
// deliberately absent: private messages never reach the web.
var Events = []string{"chatMsg", "addUser", "userLeave", "userlist", "setUserRank", "setAFK", "setUserMeta", "changeMedia"}

// sayRequest is a line the web asked the bot to say.
type sayRequest struct{ text, by string }

// Props returns the web plugin of one channel. Without a hub (no web server
// configured) it registers for nothing and stays idle.
func Props(deps pluginkit.Deps) *actor.Props {
	return pluginkit.Props(deps, func() actor.Actor {
		p := &plugin{hub: deps.Web}
		p.kit = pluginkit.New(deps, Name, p.declare)
		return p
	})
}

type plugin struct {
	kit *pluginkit.Kit
	hub *hub.Hub

	rolling, prepared bool
	rollTimer         clock.Timer
}

func (p *plugin) declare() pluginkit.Registration {
	if p.hub == nil {
		return pluginkit.Registration{}
	}
	return pluginkit.Registration{Events: Events, Commands: []messages.CommandSpec{{
		Name: "web", MinRank: 2, Cooldown: 10 * time.Second, PMAllowed: true,
		Description: "PMs you a one-time link (5 minutes) that signs you in to this channel's web pages",
		Usage:       "web",
	}}}
}

func (p *plugin) Receive(ctx actor.Context) {
	// The hub's connection state comes from the daemon's own observer,
	// which hears every state from the first: a plugin only hears those
	// published after it subscribed.
	if p.kit.Handle(ctx) {
		return
	}
	if p.hub == nil {
		return
	}
	channel := p.kit.Deps.Channel
	switch m := ctx.Message().(type) {
	case *actor.Started:
		self, sys := ctx.Self(), p.kit.Deps.System
		if sys != nil {
			p.hub.SetSayer(channel, func(text, by string) bool {
				sys.Send(self, sayRequest{text: text, by: by})
				return true
			})
		}
		if p.kit.Deps.SQL != nil {
			p.rollup(ctx)
		}
	case *actor.Stopping:
		p.hub.SetSayer(channel, nil)
		if p.rollTimer != nil {
			p.rollTimer.Stop()
		}
	case rollupTick:
		p.rollTimer = nil
		p.rollup(ctx)
	case sayRequest:
		p.kit.Log.Info("web say", slog.String("user", m.by), slog.Int("length", len(m.text)))
		p.kit.Say(ctx, m.text)
	case *messages.PluginNotify:
		if m.Event != nil {
			p.onEvent(m.Event)
		}
	case *messages.Command:
		if m.Name == "web" {
			p.onWeb(ctx, m)
		}
	}
}

// onWeb answers !web with a sign-in link, always by PM: a link typed into
// the public chat could be used by anyone who reads it first.
func (p *plugin) onWeb(ctx actor.Context, cmd *messages.Command) {
	url, ok := p.hub.IssueLogin(p.kit.Deps.Channel, cmd.User)
	if !ok {
		p.kit.Refuse(ctx, cmd, "web server not running", "Sorry "+cmd.User+", the web pages are not available right now.")
		return
	}
	if !cmd.PM {
		p.kit.Say(ctx, cmd.User+", I sent you the sign-in link by PM.")
	}
	p.kit.PM(ctx, cmd.User, "Your sign-in link (works once, for 5 minutes): "+url)
}

func (p *plugin) at(t time.Time) time.Time {
	if t.IsZero() {
		return p.kit.Deps.Clock.Now()
	}
	return t
}

func (p *plugin) onEvent(ev *messages.Event) {
	channel := p.kit.Deps.Channel
	at := p.at(ev.Received)
	if st, ok := ev.ServerTime(); ok {
		at = st
	}
	switch b := ev.Body.(type) {
	case *messages.ChatMsg:
		p.hub.Chat(channel, b.Username, b.Text, at, Hidden(b, p.hub.IsSMuted(channel, b.Username)))
	case *messages.AddUser:
		p.hub.Join(channel, member(b.User), at)
	case *messages.UserLeave:
		p.hub.Leave(channel, b.Name, at)
	case *messages.UserList:
		users := make([]hub.Member, 0, len(b.Users))
		for _, u := range b.Users {
			users = append(users, member(u))
		}
		p.hub.SetUsers(channel, users, at)
	case *messages.SetUserRank:
		p.hub.SetRank(channel, b.Name, b.Rank, at)
	case *messages.SetAFK:
		p.hub.SetAFK(channel, b.Name, b.AFK)
	case *messages.SetUserMeta:
		p.hub.SetAFK(channel, b.Name, b.Meta.AFK)
		p.hub.SetSMuted(channel, b.Name, b.Meta.SMuted)
	case *messages.ChangeMedia:
		p.hub.Play(channel, hub.NowPlaying{Title: b.Title, Type: b.Type, ID: b.ID, Seconds: b.Seconds, Since: at})
	}
}

func member(u messages.User) hub.Member {
	return hub.Member{Name: u.Name, Rank: u.Rank, AFK: u.Meta.AFK, SMuted: u.Meta.SMuted}
}

// ServerName is the pseudo-user CyTube whispers moderator notices as.
const ServerName = "[server]"

// Hidden tells whether a chat line is for moderators only: a [server]
// whisper, or a line CyTube marked as coming from a shadow-muted user
// (meta.shadow), or one from a user the roster knows to be shadow-muted.
func Hidden(c *messages.ChatMsg, smuted bool) bool {
	if c.Username == ServerName || smuted {
		return true
	}
	var meta struct {
		Shadow   bool   `json:"shadow"`
		AddClass string `json:"addClass"`
	}
	if len(c.Meta) > 0 && json.Unmarshal(c.Meta, &meta) == nil {
		return meta.Shadow || meta.AddClass == "server-whisper"
	}
	return false
}
