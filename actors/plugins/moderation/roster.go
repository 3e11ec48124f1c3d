package moderation

import (
	"strconv"
	"strings"

	"github.com/daz-bot/daz/messages"
)

// serverName is the pseudo-user of CyTube's moderator notices.
const serverName = "[server]"

// member is one logged-in user as the channel last told us.
type member struct {
	Name  string
	Rank  float64
	Muted bool
}

// roster is the channel as the moderation plugin sees it: who is here with
// which rank, who we are, and what each rank may do. Everything about our
// own identity is learned in observe and identify, the one place to adapt
// when the way the bot's name and rank travel with events changes.
type roster struct {
	users   map[string]member // lower-case name
	botName string
	botRank float64
	perms   map[string]float64
}

// defaultPerms are CyTube's defaults, used until setPermissions arrives.
func defaultPerms() map[string]float64 {
	return map[string]float64{"kick": 1.5, "mute": 1.5, "ban": 2}
}

func newRoster() *roster {
	return &roster{users: map[string]member{}, botRank: -1, perms: defaultPerms()}
}

// identify applies what the connection says about us once online.
func (r *roster) identify(st *messages.ConnectionState) {
	if st.State != messages.StateOnline || st.Username == "" {
		return
	}
	r.botName = st.Username
	if st.Rank != 0 {
		r.botRank = st.Rank
	}
}

// observe updates the roster from one server event; it reports false for a
// malformed frame the plugin should log and ignore.
func (r *roster) observe(ev *messages.Event) bool {
	switch b := ev.Body.(type) {
	case *messages.UserList:
		r.users = make(map[string]member, len(b.Users))
		for _, u := range b.Users {
			r.add(u)
		}
	case *messages.AddUser:
		r.add(b.User)
	case *messages.UserLeave:
		delete(r.users, strings.ToLower(b.Name))
	case *messages.SetUserRank:
		key := strings.ToLower(b.Name)
		if m, ok := r.users[key]; ok {
			m.Rank = b.Rank
			r.users[key] = m
		}
		if r.isBot(b.Name) {
			r.botRank = b.Rank
		}
	case *messages.SetUserMeta:
		key := strings.ToLower(b.Name)
		if m, ok := r.users[key]; ok {
			m.Muted = b.Meta.Muted || b.Meta.SMuted
			r.users[key] = m
		}
	case *messages.Login:
		if b.Success && b.Name != "" {
			r.botName = b.Name
			if m, ok := r.users[strings.ToLower(b.Name)]; ok && r.botRank < m.Rank {
				r.botRank = m.Rank
			}
		}
	case *messages.Rank:
		// The global rank comes first, the channel rank after it; the last
		// one is the one that counts here.
		r.botRank = b.Rank
	case *messages.SetPermissions:
		if b == nil || b.Perms == nil {
			return false
		}
		perms := defaultPerms()
		for k, v := range b.Perms {
			perms[k] = v
		}
		r.perms = perms
	}
	return true
}

func (r *roster) add(u messages.User) {
	if u.Name == "" {
		return
	}
	r.users[strings.ToLower(u.Name)] = member{Name: u.Name, Rank: u.Rank, Muted: u.Meta.Muted || u.Meta.SMuted}
	if r.isBot(u.Name) && u.Rank > r.botRank {
		r.botRank = u.Rank
	}
}

func (r *roster) lookup(name string) (member, bool) {
	m, ok := r.users[strings.ToLower(name)]
	return m, ok
}

func (r *roster) isBot(name string) bool {
	return r.botName != "" && strings.EqualFold(name, r.botName)
}

// need returns the rank CyTube wants for permission perm.
func (r *roster) need(perm string) float64 {
	if v, ok := r.perms[perm]; ok {
		return v
	}
	return defaultPerms()[perm]
}

// may reports whether our own rank allows perm.
func (r *roster) may(perm string) bool { return r.botRank >= r.need(perm) }

func formatRank(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
