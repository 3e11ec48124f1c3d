package sandbox

import (
	"encoding/json"
	"sort"
	"strings"
)

// chatCommand runs the slash commands the sandbox knows and reports whether
// text was one. Unknown commands are ordinary chat, as on CyTube. Callers
// hold Server.mu.
func (c *conn) chatCommand(text string) bool {
	if !strings.HasPrefix(text, "/") {
		return false
	}
	args := strings.Fields(text)
	target, reason := "", ""
	if len(args) > 1 {
		target = args[1]
		_, rest, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(text, args[0])), " ")
		reason = strings.TrimSpace(rest)
	}
	perm := map[string]string{"/kick": "kick", "/ban": "ban", "/ipban": "ban",
		"/mute": "mute", "/smute": "mute", "/unmute": "mute"}[args[0]]
	switch {
	case args[0] == "/afk":
		c.setAFK(!c.afk)
		return true
	case perm == "":
		return false
	case target == "" || c.rank() < c.ch.perms.minRank(perm):
		return true // CyTube ignores a command the sender may not use
	}
	switch args[0] {
	case "/kick":
		c.kickUser(target, reason)
	case "/ban", "/ipban":
		c.banUser(target, reason, args[0] == "/ipban")
	case "/mute":
		c.muteUser(target, muteOn)
	case "/smute":
		c.muteUser(target, muteShadow)
	case "/unmute":
		c.muteUser(target, muteOff)
	}
	return true
}

// outranks reports whether the sender may act on target (strictly higher
// rank); otherwise the sender gets CyTube's refusal. Callers hold mu.
func (c *conn) outranks(target *conn, verb string) bool {
	if target.rank() >= c.rank() {
		c.emit("errorMsg", map[string]string{"msg": "You do not have permission to " + verb + " " + target.ident.name})
		return false
	}
	return true
}

func (c *conn) kickUser(name, reason string) {
	ch := c.ch
	target := ch.userByName(name)
	if target == nil || !c.outranks(target, "kick") {
		return
	}
	targetName := target.ident.name
	c.log.Info("kick", "channel", ch.name, "user", targetName, "by", c.ident.name)
	target.kick(reason)
	ch.serverNotice(nil, c.ident.name+" kicked "+targetName)
}

type muteMode int

const (
	muteOff muteMode = iota
	muteOn
	muteShadow
)

// muteUser mutes, shadow-mutes or unmutes a user present in the channel. A
// shadow mute is announced to moderators only: the user keeps chatting but
// only they and the moderators see it.
func (c *conn) muteUser(name string, mode muteMode) {
	ch := c.ch
	target := ch.userByName(name)
	verb := map[muteMode]string{muteOff: "unmute", muteOn: "mute", muteShadow: "mute"}[mode]
	if target == nil || !c.outranks(target, verb) {
		return
	}
	key := strings.ToLower(target.ident.name)
	was := muteOff
	switch {
	case ch.smuted[key]:
		was = muteShadow
	case ch.muted[key]:
		was = muteOn
	}
	if was == mode {
		return
	}
	delete(ch.muted, key)
	delete(ch.smuted, key)
	switch mode {
	case muteOn:
		ch.muted[key] = true
		ch.broadcastUserMeta(target, rankAnonymous)
		ch.serverNotice(nil, c.ident.name+" muted "+target.ident.name)
	case muteShadow:
		ch.smuted[key] = true
		ch.broadcastUserMeta(target, rankModerator)
		ch.serverNotice(nil, c.ident.name+" shadow muted "+target.ident.name)
	case muteOff:
		ch.serverNotice(nil, c.ident.name+" unmuted "+target.ident.name)
		minRank := float64(rankAnonymous)
		if was == muteShadow {
			minRank = rankModerator // nobody else knew
		}
		ch.broadcastUserMeta(target, minRank)
	}
}

// onSetOptions handles setOptions for the chat anti-flood settings, the only
// options the sandbox acts on. Callers hold Server.mu.
func (c *conn) onSetOptions(payload json.RawMessage) {
	if c.ch == nil || c.rank() < rankModerator || jsTypeOf(payload) != "object" {
		return
	}
	var req struct {
		ChatAntiflood       *bool `json:"chat_antiflood"`
		ChatAntifloodParams *struct {
			Burst     float64 `json:"burst"`
			Sustained float64 `json:"sustained"`
		} `json:"chat_antiflood_params"`
	}
	if err := json.Unmarshal(payload, &req); err != nil {
		c.log.Warn("setOptions with bad types ignored", "err", err)
		return
	}
	opts := &c.ch.opts
	if req.ChatAntiflood != nil {
		opts.ChatAntiflood = *req.ChatAntiflood
	}
	if p := req.ChatAntifloodParams; p != nil && p.Burst >= 1 && p.Sustained > 0 {
		opts.ChatAntifloodParams = antifloodParams{Burst: p.Burst, Sustained: p.Sustained, Cooldown: p.Burst / p.Sustained}
	}
	c.ch.broadcast("channelOpts", c.ch.opts)
}

// onSetChannelRank handles setChannelRank {"name","rank"} from a channel
// admin. Callers hold Server.mu.
func (c *conn) onSetChannelRank(payload json.RawMessage) {
	var req struct {
		Name *string  `json:"name"`
		Rank *float64 `json:"rank"`
	}
	if c.ch == nil || jsTypeOf(payload) != "object" || json.Unmarshal(payload, &req) != nil ||
		req.Name == nil || req.Rank == nil {
		return
	}
	own := c.rank()
	acc, ok := c.srv.accounts[strings.ToLower(*req.Name)]
	if own < rankAdmin || !ok || *req.Rank >= own || c.ch.rankOf(acc.name) >= own {
		return
	}
	c.ch.setRank(acc.name, *req.Rank)
}

// setRank changes a registered user's rank and tells the channel in the
// recorded order. Callers hold Server.mu.
func (ch *channel) setRank(name string, rank float64) {
	old := ch.rankOf(name)
	ch.ranks[strings.ToLower(name)] = rank
	target := ch.userByName(name)
	if target == nil || !target.ident.registered {
		return
	}
	if (old >= rankModerator) != (rank >= rankModerator) {
		target.emit("userlist", ch.userlistFor(target))
	}
	ch.broadcastExcept(target, "setUserRank", userRank{Name: target.ident.name, Rank: rank})
	target.emit("rank", rank)
	target.emit("setUserRank", userRank{Name: target.ident.name, Rank: rank})
}

type channelRank struct {
	Name    string  `json:"name"`
	Rank    float64 `json:"rank"`
	Channel string  `json:"channel"`
}

// onRequestChannelRanks lists the accounts ranked above 1 here.
func (c *conn) onRequestChannelRanks() {
	if c.ch == nil || c.rank() < rankAdmin {
		return
	}
	list := []channelRank{}
	for _, acc := range c.srv.accounts {
		if r := c.ch.rankOf(acc.name); r > rankRegistered {
			list = append(list, channelRank{Name: acc.name, Rank: r, Channel: c.ch.name})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	c.emit("channelRanks", list)
}

// onSetMotd handles setMotd {"motd"}. The MOTD is HTML; only a few plain
// formatting tags survive, everything else is escaped.
func (c *conn) onSetMotd(payload json.RawMessage) {
	var req struct {
		Motd *string `json:"motd"`
	}
	if c.ch == nil || c.rank() < c.ch.perms.minRank("motdedit") || jsTypeOf(payload) != "object" ||
		json.Unmarshal(payload, &req) != nil || req.Motd == nil {
		return
	}
	c.ch.motd = c.srv.render.motd(*req.Motd)
	c.ch.broadcast("setMotd", c.ch.motd)
}
