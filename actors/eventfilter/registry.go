package eventfilter

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/messages"
)

// command is one routed command: the plugin's declaration plus the values
// in force (the operator's overrides from daz_eventfilter_cmds win).
type command struct {
	spec     messages.CommandSpec // normalised: lower-case name and aliases
	plugin   string
	owner    *actor.PID
	minRank  float64
	cooldown time.Duration
	enabled  bool
	// unavailable says why the plugin cannot serve the command (disabled
	// by its supervisor, stopped); such a command is refused, not routed.
	unavailable string
}

func (c *command) info() messages.CommandInfo {
	return messages.CommandInfo{
		Name: c.spec.Name, Plugin: c.plugin, Aliases: append([]string(nil), c.spec.Aliases...),
		MinRank: c.minRank, Cooldown: c.cooldown, PMAllowed: c.spec.PMAllowed, Enabled: c.enabled,
		Description: c.spec.Description, Usage: c.spec.Usage,
	}
}

// override is a row of daz_eventfilter_cmds as last read.
type override struct {
	minRank  float64
	cooldown time.Duration
	enabled  bool
}

// registry is the declarative command table. Each plugin owns the set it
// last declared; a new declaration replaces the old one, which is how custom
// commands come and go.
type registry struct {
	byName    map[string]*command
	byAlias   map[string]string // alias -> name
	plugins   map[string]*actor.PID
	overrides map[string]override
}

func newRegistry() *registry {
	return &registry{
		byName:    map[string]*command{},
		byAlias:   map[string]string{},
		plugins:   map[string]*actor.PID{},
		overrides: map[string]override{},
	}
}

// maxNameLen keeps command words to something a user can type.
const maxNameLen = 32

// validName accepts what users can type after the prefix as one word.
func validName(name string) bool {
	if name == "" || len(name) > maxNameLen {
		return false
	}
	return !strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// replace makes specs the complete command set of plugin and returns the
// commands that were added or changed (to persist) and any declaration it
// refused (invalid name, or a name/alias another plugin already owns).
func (r *registry) replace(plugin string, owner *actor.PID, specs []messages.CommandSpec, unavailable string) (changed []*command, refused []string) {
	r.plugins[plugin] = owner
	for name, c := range r.byName {
		if c.plugin == plugin {
			r.remove(name)
		}
	}
	for _, s := range specs {
		s.Name = strings.ToLower(strings.TrimSpace(s.Name))
		if !validName(s.Name) {
			refused = append(refused, fmt.Sprintf("%q: invalid command name", s.Name))
			continue
		}
		if other := r.owner(s.Name); other != "" {
			refused = append(refused, fmt.Sprintf("%q: already owned by plugin %s", s.Name, other))
			continue
		}
		var aliases []string
		for _, a := range s.Aliases {
			a = strings.ToLower(strings.TrimSpace(a))
			switch {
			case !validName(a) || a == s.Name:
				continue
			case r.owner(a) != "":
				refused = append(refused, fmt.Sprintf("alias %q of %q: already owned by plugin %s", a, s.Name, r.owner(a)))
				continue
			}
			aliases = append(aliases, a)
		}
		s.Aliases = aliases
		c := &command{spec: s, plugin: plugin, owner: owner, minRank: s.MinRank, cooldown: s.Cooldown, enabled: true, unavailable: unavailable}
		if o, ok := r.overrides[s.Name]; ok {
			c.minRank, c.cooldown, c.enabled = o.minRank, o.cooldown, o.enabled
		}
		r.byName[s.Name] = c
		for _, a := range aliases {
			r.byAlias[a] = s.Name
		}
		changed = append(changed, c)
	}
	return changed, refused
}

func (r *registry) remove(name string) {
	c, ok := r.byName[name]
	if !ok {
		return
	}
	for _, a := range c.spec.Aliases {
		delete(r.byAlias, a)
	}
	delete(r.byName, name)
}

// owner returns the plugin owning word as a name or an alias, or "".
func (r *registry) owner(word string) string {
	if c := r.lookup(word); c != nil {
		return c.plugin
	}
	return ""
}

// lookup resolves a typed command word (already lower-case).
func (r *registry) lookup(word string) *command {
	if c, ok := r.byName[word]; ok {
		return c
	}
	if name, ok := r.byAlias[word]; ok {
		return r.byName[name]
	}
	return nil
}

// applyOverrides installs the operator's table and updates the live
// commands; a command without a row keeps its plugin's defaults.
func (r *registry) applyOverrides(rows map[string]override) {
	r.overrides = rows
	for name, c := range r.byName {
		if o, ok := rows[name]; ok {
			c.minRank, c.cooldown, c.enabled = o.minRank, o.cooldown, o.enabled
		}
	}
}

// applyOne updates one command from the row its upsert returned.
func (r *registry) applyOne(name string, o override) {
	r.overrides[name] = o
	if c, ok := r.byName[name]; ok {
		c.minRank, c.cooldown, c.enabled = o.minRank, o.cooldown, o.enabled
	}
}

func (r *registry) list() []messages.CommandInfo {
	out := make([]messages.CommandInfo, 0, len(r.byName))
	for _, c := range r.byName {
		out = append(out, c.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
