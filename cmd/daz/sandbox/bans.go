package sandbox

import (
	"encoding/json"
	"slices"
	"strings"
)

// Kick texts for bans, as recorded.
const (
	kickBanned       = "You're banned!"
	kickBannedOnJoin = "You are banned from this channel."
)

// ban is one banlist entry: a name ban (ip "*") or an IP ban.
type ban struct {
	ID       int    `json:"id"`
	IP       string `json:"ip"`
	Name     string `json:"name"`
	Reason   string `json:"reason"`
	BannedBy string `json:"bannedby"`
	addr     string // the raw IP of an IP ban; the list shows its cloak
}

// banUser bans a name, and with ip also the address the user connects from;
// a present user is kicked with "You're banned!". Callers hold mu.
func (c *conn) banUser(name, reason string, ip bool) {
	ch := c.ch
	target := ch.userByName(name)
	if target != nil && !c.outranks(target, "ban") {
		return
	}
	if target != nil {
		name = target.ident.name
	} else if !validUserName(name) {
		return
	}
	if rank := ch.rankOf(name); target == nil && ch.srv.accounts[strings.ToLower(name)].name != "" && rank >= c.rank() {
		c.emit("errorMsg", map[string]string{"msg": "You do not have permission to ban " + name})
		return
	}
	if ch.banFor(name, "") == nil {
		ch.addBan(ban{IP: "*", Name: name, Reason: reason, BannedBy: c.ident.name})
	}
	notice := c.ident.name + " namebanned " + name
	if ip && target != nil {
		ch.addBan(ban{IP: target.cloak, Name: name, Reason: reason, BannedBy: c.ident.name, addr: target.ip})
		notice = c.ident.name + " banned " + target.cloak + " (" + name + ")"
	}
	c.log.Info("ban", "channel", ch.name, "user", name, "ip", ip, "by", c.ident.name)
	ch.serverNotice(nil, notice)
	// Kicking changes ch.users, so walk a copy. An IP ban spares users the
	// sender could not ban anyway (on loopback everyone shares one address).
	for _, u := range slices.Clone(ch.users) {
		sameIP := ip && target != nil && u.ip == target.ip && u.rank() < c.rank()
		if strings.EqualFold(u.ident.name, name) || sameIP {
			u.kick(kickBanned)
		}
	}
}

func (ch *channel) addBan(b ban) {
	ch.srv.nextBanID++
	b.ID = ch.srv.nextBanID
	ch.bans = append(ch.bans, b)
}

// banFor finds the ban that keeps a name or an address out, nil if none.
func (ch *channel) banFor(name, addr string) *ban {
	for i, b := range ch.bans {
		if (b.addr == "" && name != "" && strings.EqualFold(b.Name, name)) || (b.addr != "" && b.addr == addr) {
			return &ch.bans[i]
		}
	}
	return nil
}

// kickIfBanned turns a banned user away once their login or join is done,
// as CyTube does: the login succeeds, then the kick follows at once.
// Callers hold mu.
func (ch *channel) kickIfBanned(c *conn) {
	if c.ch != ch {
		return
	}
	b := ch.banFor(c.ident.name, c.ip)
	if b == nil || (b.addr == "" && !c.ident.loggedIn()) {
		return
	}
	why := "name is banned"
	if b.addr != "" {
		why = "IP is banned"
	}
	name := c.ident.name
	c.kick(kickBannedOnJoin)
	if name != "" {
		ch.serverNotice(nil, name+" was kicked ("+why+")")
	}
}

// onRequestBanlist answers requestBanlist with the channel's bans.
func (c *conn) onRequestBanlist() {
	if c.ch == nil || c.rank() < c.ch.perms.minRank("ban") {
		return
	}
	list := append([]ban{}, c.ch.bans...)
	c.emit("banlist", list)
}

// onUnban handles unban {"id","name"}: the entry with that id, else the name
// ban of that name. Moderators see banlistRemove.
func (c *conn) onUnban(payload json.RawMessage) {
	ch := c.ch
	var req struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	if ch == nil || c.rank() < ch.perms.minRank("ban") || jsTypeOf(payload) != "object" ||
		json.Unmarshal(payload, &req) != nil {
		return
	}
	at := -1
	for i, b := range ch.bans {
		if b.ID == req.ID {
			at = i
			break
		}
	}
	if at < 0 {
		for i, b := range ch.bans {
			if b.addr == "" && strings.EqualFold(b.Name, req.Name) {
				at = i
				break
			}
		}
	}
	if at < 0 {
		return
	}
	b := ch.bans[at]
	ch.bans = append(ch.bans[:at], ch.bans[at+1:]...)
	removed := map[string]any{"id": req.ID, "name": b.Name}
	for _, m := range ch.members {
		if m.rank() >= ch.perms.minRank("ban") {
			m.emit("banlistRemove", removed)
		}
	}
	ch.serverNotice(nil, c.ident.name+" unbanned "+b.Name)
}
