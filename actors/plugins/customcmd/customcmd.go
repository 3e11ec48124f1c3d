// Package customcmd lets moderators define text commands from chat:
// !addcmd name text, !delcmd name, !cmds. Commands are stored per channel in
// daz_customcmd_commands and registered with the EventFilter like any other
// command, so rank, cooldown and the operator's overrides apply to them too.
package customcmd

import (
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// Name is the plugin's name in the registry and on the tree.
const Name = "customcmd"

// Limits on what moderators can define.
const (
	MaxResponseChars = 500
	MaxCommands      = 500
)

// MaxHeld bounds the commands held while the stored ones are still loading.
const MaxHeld = 50

// Timing of custom commands and of the start-up load.
const (
	customCooldown = 5 * time.Second
	loadRetry      = 5 * time.Second
	askTimeout     = 5 * time.Second
)

var validName = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// Props returns the custom-commands plugin of one channel.
func Props(deps pluginkit.Deps) *actor.Props {
	return pluginkit.Props(deps, func() actor.Actor {
		p := &plugin{cmds: map[string]entry{}}
		p.kit = pluginkit.New(deps, Name, p.declare)
		return p
	})
}

type entry struct {
	response  string
	createdBy string
}

type loadTick struct{}

type plugin struct {
	kit    *pluginkit.Kit
	cmds   map[string]entry
	loaded bool
	// held are commands that arrived before the stored ones were loaded:
	// answering "still loading" would drop them, so they wait (a bounded
	// number) and run once loading is done.
	held []*messages.Command
}

type detail struct {
	Loaded   bool `json:"loaded"`
	Commands int  `json:"custom_commands"`
}

func (p *plugin) declare() pluginkit.Registration {
	specs := []messages.CommandSpec{
		{Name: "addcmd", MinRank: 2, Cooldown: time.Second, PMAllowed: true,
			Description: "add or change a custom command; {user}, {args} and {channel} are filled in",
			Usage:       "addcmd <name> <text>"},
		{Name: "delcmd", MinRank: 2, Cooldown: time.Second, PMAllowed: true,
			Description: "delete a custom command", Usage: "delcmd <name>"},
		{Name: "cmds", Cooldown: 10 * time.Second, PMAllowed: true,
			Description: "list the custom commands", Usage: "cmds"},
	}
	for _, name := range p.names() {
		specs = append(specs, messages.CommandSpec{
			Name: name, Cooldown: customCooldown, PMAllowed: true,
			Description: "custom command", Usage: name,
		})
	}
	return pluginkit.Registration{Commands: specs}
}

func (p *plugin) names() []string {
	out := make([]string, 0, len(p.cmds))
	for n := range p.cmds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (p *plugin) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	switch m := ctx.Message().(type) {
	case *actor.Started, loadTick:
		p.load(ctx)
	case *messages.Command:
		if !p.loaded {
			p.hold(ctx, m)
			return
		}
		p.command(ctx, m)
	}
}

func (p *plugin) command(ctx actor.Context, m *messages.Command) {
	switch m.Name {
	case "addcmd":
		p.add(ctx, m)
	case "delcmd":
		p.del(ctx, m)
	case "cmds":
		p.list(ctx, m)
	default:
		p.run(ctx, m)
	}
}

func (p *plugin) load(ctx actor.Context) {
	p.kit.Query(ctx, `SELECT name, response, created_by FROM daz_customcmd_commands WHERE channel = $1`,
		[]any{p.kit.Deps.Channel}, func(res *messages.SQLResponse) {
			if res.Err != nil {
				p.kit.Log.Warn("loading custom commands failed; retrying", slog.Any("error", res.Err))
				p.loadFailed(ctx, res.Err)
				p.kit.Deps.System.SendAfter(loadRetry, ctx.Self(), loadTick{})
				return
			}
			p.cmds = map[string]entry{}
			for _, r := range pluginkit.Rows(res) {
				p.cmds[r.String(0)] = entry{response: r.String(1), createdBy: r.String(2)}
			}
			p.loaded = true
			p.kit.Register(ctx)
			p.kit.SetDetail(detail{Loaded: true, Commands: len(p.cmds)})
			held := p.held
			p.held = nil
			for _, m := range held {
				p.command(ctx, m)
			}
		})
}

// hold keeps a command until loading is done; beyond MaxHeld it is refused
// with the reason.
func (p *plugin) hold(ctx actor.Context, m *messages.Command) {
	if len(p.held) >= MaxHeld {
		p.kit.Refuse(ctx, m, "custom commands still loading; hold queue full",
			"Custom commands are still loading and many commands wait already; try again in a moment.")
		return
	}
	p.held = append(p.held, m)
}

// loadFailed answers every held command with why it cannot run yet;
// loading is retried meanwhile.
func (p *plugin) loadFailed(ctx actor.Context, err error) {
	held := p.held
	p.held = nil
	for _, m := range held {
		p.kit.Refuse(ctx, m, "custom commands not loaded: "+err.Error(),
			"Custom commands could not be loaded (the database is not reachable); try again later.")
	}
}

// run answers a custom command.
func (p *plugin) run(ctx actor.Context, cmd *messages.Command) {
	e, ok := p.cmds[cmd.Name]
	if !ok {
		return
	}
	p.kit.Reply(ctx, cmd, Render(e.response, cmd.User, cmd.ArgText, p.kit.Deps.Channel))
}

// Render fills a response template. Substituted text is inserted once and
// never re-expanded, so {args} typed as "{user}" stays literal.
func Render(tmpl, user, args, channel string) string {
	return strings.NewReplacer("{user}", user, "{args}", args, "{channel}", channel).Replace(tmpl)
}

func (p *plugin) add(ctx actor.Context, cmd *messages.Command) {
	prefix := p.kit.Deps.Prefix
	if len(cmd.Args) < 2 {
		p.kit.Reply(ctx, cmd, "Usage: "+prefix+"addcmd <name> <text>")
		return
	}
	name := strings.ToLower(strings.TrimPrefix(cmd.Args[0], prefix))
	response := strings.TrimSpace(strings.TrimPrefix(cmd.ArgText, cmd.Args[0]))
	switch {
	case !validName.MatchString(name):
		p.kit.Reply(ctx, cmd, "Command names are 1-32 characters: a-z, 0-9, - and _.")
		return
	case len([]rune(response)) > MaxResponseChars:
		p.kit.Reply(ctx, cmd, "That text is too long (at most 500 characters).")
		return
	}
	if _, exists := p.cmds[name]; !exists && len(p.cmds) >= MaxCommands {
		p.kit.Reply(ctx, cmd, "This channel already has the maximum number of custom commands.")
		return
	}
	// A custom command must not shadow one another plugin owns; the
	// EventFilter's table is the authority on that.
	pluginkit.Ask(p.kit.Deps.System, ctx, p.kit.Deps.EventFilter, askTimeout, &messages.ListCommands{Channel: p.kit.Deps.Channel},
		func(res any, err error) {
			list, ok := res.(*messages.CommandList)
			if err != nil || !ok {
				p.kit.Reply(ctx, cmd, "I cannot check the command list right now, try again in a moment.")
				return
			}
			if owner := ownerOf(list.Commands, name); owner != "" && owner != Name {
				p.kit.Reply(ctx, cmd, prefix+name+" is a built-in command and cannot be replaced.")
				return
			}
			p.store(ctx, cmd, name, response)
		})
}

func ownerOf(table []messages.CommandInfo, word string) string {
	for _, c := range table {
		if c.Name == word {
			return c.Plugin
		}
		for _, a := range c.Aliases {
			if a == word {
				return c.Plugin
			}
		}
	}
	return ""
}

func (p *plugin) store(ctx actor.Context, cmd *messages.Command, name, response string) {
	p.kit.Query(ctx, `INSERT INTO daz_customcmd_commands (channel, name, response, created_by)
VALUES ($1, $2, $3, $4)
ON CONFLICT (channel, name) DO UPDATE SET response = EXCLUDED.response, updated_at = now()
RETURNING (xmax = 0) AS inserted`,
		[]any{p.kit.Deps.Channel, name, response, cmd.User}, func(res *messages.SQLResponse) {
			if res.Err != nil {
				p.kit.Log.Warn("saving custom command failed", slog.String("command", name), slog.Any("error", res.Err))
				p.kit.Refuse(ctx, cmd, "database unavailable: "+res.Err.Error(), "The database is not reachable right now; the command was not saved.")
				return
			}
			inserted := len(res.Rows) > 0 && pluginkit.Row(res.Rows[0]).Bool(0)
			p.cmds[name] = entry{response: response, createdBy: cmd.User}
			p.kit.Register(ctx)
			p.kit.SetDetail(detail{Loaded: true, Commands: len(p.cmds)})
			verb := "Updated"
			if inserted {
				verb = "Added"
			}
			p.confirmed(ctx, cmd, name, verb+" "+p.kit.Deps.Prefix+name+".")
		})
}

// confirmed replies once the EventFilter has the new registration in
// force: it handles its mailbox in order, so its answer to ListCommands
// (asked after RegisterPlugin was sent) proves the registration was
// applied, and whoever reads the reply and types the command at once is
// routed. A table without the name means the EventFilter restarted in
// between and lost it: register again and ask again, a few times.
func (p *plugin) confirmed(ctx actor.Context, cmd *messages.Command, name, text string) {
	p.confirm(ctx, cmd, name, text, confirmAttempts)
}

// confirmAttempts bounds re-registering while the EventFilter restarts.
const confirmAttempts = 3

func (p *plugin) confirm(ctx actor.Context, cmd *messages.Command, name, text string, left int) {
	pluginkit.Ask(p.kit.Deps.System, ctx, p.kit.Deps.EventFilter, askTimeout, &messages.ListCommands{Channel: p.kit.Deps.Channel},
		func(res any, err error) {
			list, ok := res.(*messages.CommandList)
			if err != nil || !ok {
				// Saved and registered; only the confirmation is missing.
				p.kit.Log.Warn("the EventFilter did not confirm a custom command", slog.String("command", name), slog.Any("error", err))
				p.kit.Reply(ctx, cmd, text)
				return
			}
			switch owner := ownerOf(list.Commands, name); {
			case owner == Name:
				p.kit.Reply(ctx, cmd, text)
			case owner != "":
				p.kit.Reply(ctx, cmd, "Saved, but "+p.kit.Deps.Prefix+name+" could not be registered: plugin "+owner+" owns that name.")
			case left > 1 && p.cmds[name].response != "":
				p.kit.Register(ctx)
				p.confirm(ctx, cmd, name, text, left-1)
			default:
				p.kit.Log.Warn("the EventFilter did not take a custom command", slog.String("command", name))
				p.kit.Reply(ctx, cmd, text)
			}
		})
}

func (p *plugin) del(ctx actor.Context, cmd *messages.Command) {
	prefix := p.kit.Deps.Prefix
	if len(cmd.Args) != 1 {
		p.kit.Reply(ctx, cmd, "Usage: "+prefix+"delcmd <name>")
		return
	}
	name := strings.ToLower(strings.TrimPrefix(cmd.Args[0], prefix))
	p.kit.Exec(ctx, `DELETE FROM daz_customcmd_commands WHERE channel = $1 AND name = $2`,
		[]any{p.kit.Deps.Channel, name}, func(res *messages.SQLResponse) {
			if res.Err != nil {
				p.kit.Log.Warn("deleting custom command failed", slog.String("command", name), slog.Any("error", res.Err))
				p.kit.Refuse(ctx, cmd, "database unavailable: "+res.Err.Error(), "The database is not reachable right now; nothing was deleted.")
				return
			}
			_, known := p.cmds[name]
			if res.RowsAffected == 0 && !known {
				p.kit.Reply(ctx, cmd, "There is no custom command "+prefix+name+".")
				return
			}
			delete(p.cmds, name)
			p.kit.Register(ctx)
			p.kit.SetDetail(detail{Loaded: true, Commands: len(p.cmds)})
			p.kit.Reply(ctx, cmd, "Deleted "+prefix+name+".")
		})
}

func (p *plugin) list(ctx actor.Context, cmd *messages.Command) {
	names := p.names()
	if len(names) == 0 {
		p.kit.Reply(ctx, cmd, "No custom commands yet.")
		return
	}
	for i, n := range names {
		names[i] = p.kit.Deps.Prefix + n
	}
	p.kit.Reply(ctx, cmd, "Custom commands: "+strings.Join(names, " "))
}
