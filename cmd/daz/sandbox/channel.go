package sandbox

import (
	"encoding/json"
	"slices"
	"strings"
)

// backlogLen is how many recent chat lines a join burst replays.
const backlogLen = 15

// channel is one CyTube channel. Every field is guarded by Server.mu.
type channel struct {
	srv        *Server
	name       string
	registered bool

	members []*conn // every socket in the channel, anonymous ones too
	users   []*conn // logged-in members, in the order they appeared

	ranks    map[string]float64 // lower-case name → rank set at runtime
	muted    map[string]bool    // lower-case name
	backlog  []chatMsg          // last backlogLen lines, replayed on join
	history  []chatMsg          // every broadcast line, for Messages
	opts     channelOpts
	motd     string
	perms    permissions
	smuted   map[string]bool // lower-case name; shadow-muted users
	bans     []ban
	play     playback
	password string // "": no channel password
}

func newChannel(s *Server, name string, registered bool) *channel {
	perms := defaultPermissions
	if !registered {
		perms = unregisteredPermissions
	}
	return &channel{
		srv:        s,
		name:       name,
		registered: registered,
		ranks:      make(map[string]float64),
		muted:      make(map[string]bool),
		smuted:     make(map[string]bool),
		opts:       defaultChannelOpts(name),
		perms:      parsePermissions(perms),
		play:       playback{current: -1},
	}
}

// channelFor finds or opens a channel by its lower-case name; names nobody
// configured open as unregistered, like on CyTube. Callers hold Server.mu.
func (s *Server) channelFor(name string) *channel {
	ch, ok := s.channels[name]
	if !ok {
		ch = newChannel(s, name, false)
		s.channels[name] = ch
	}
	return ch
}

// rankOf is a registered account's rank here: a runtime override, else the
// configured rank in registered channels, else 1.
func (ch *channel) rankOf(name string) float64 {
	key := strings.ToLower(name)
	if r, ok := ch.ranks[key]; ok {
		return r
	}
	acc, ok := ch.srv.accounts[key]
	if !ch.registered || !ok || acc.Rank < rankRegistered {
		return rankRegistered
	}
	return acc.Rank
}

// userByName finds a logged-in member, case-insensitively.
func (ch *channel) userByName(name string) *conn {
	for _, u := range ch.users {
		if strings.EqualFold(u.ident.name, name) {
			return u
		}
	}
	return nil
}

func (ch *channel) broadcast(name string, payload any) {
	frame := eventFrame(name, payload)
	for _, m := range ch.members {
		m.send(frame)
	}
}

func (ch *channel) broadcastExcept(skip *conn, name string, payload any) {
	frame := eventFrame(name, payload)
	for _, m := range ch.members {
		if m != skip {
			m.send(frame)
		}
	}
}

// serverNotice is a "[server]" line only moderators see; it is not chat
// history.
func (ch *channel) serverNotice(skip *conn, text string) {
	msg := chatMsg{
		Username: "[server]",
		Msg:      text,
		Meta:     chatMeta{AddClass: "server-whisper", AddClassToNameAndTimestamp: true},
		Time:     ch.srv.now().UnixMilli(),
	}
	frame := eventFrame("chatMsg", msg)
	for _, m := range ch.members {
		if m != skip && m.rank() >= rankModerator {
			m.send(frame)
		}
	}
}

type profile struct {
	Image string `json:"image"`
	Text  string `json:"text"`
}

type userMeta struct {
	AFK   bool `json:"afk"`
	Muted bool `json:"muted"`
}

// modUserMeta is what viewers of rank 2 and up see about everyone.
type modUserMeta struct {
	AFK     bool     `json:"afk"`
	Muted   bool     `json:"muted"`
	SMuted  bool     `json:"smuted"`
	Aliases []string `json:"aliases"`
	IP      string   `json:"ip"`
}

type userEntry struct {
	Name    string  `json:"name"`
	Rank    float64 `json:"rank"`
	Profile profile `json:"profile"`
	Meta    any     `json:"meta"`
}

// metaFor renders u's metadata for a viewer whose rank is viewerRank.
func (ch *channel) metaFor(viewerRank float64, u *conn) any {
	key := strings.ToLower(u.ident.name)
	muted, smuted := ch.muted[key], ch.smuted[key]
	if viewerRank >= rankModerator {
		return modUserMeta{AFK: u.afk, Muted: muted || smuted, SMuted: smuted, Aliases: []string{u.ident.name}, IP: u.cloak}
	}
	// A shadow mute is invisible below moderator.
	return userMeta{AFK: u.afk, Muted: muted}
}

func (ch *channel) entryFor(viewerRank float64, u *conn, rank float64) userEntry {
	return userEntry{Name: u.ident.name, Rank: rank, Meta: ch.metaFor(viewerRank, u)}
}

func (ch *channel) userlistFor(viewer *conn) []userEntry {
	list := make([]userEntry, 0, len(ch.users))
	for _, u := range ch.users {
		list = append(list, ch.entryFor(viewer.rank(), u, u.rank()))
	}
	return list
}

// announceUser adds u to the user list and tells every member, the newcomer
// included. rank is what the others see now; a login announces the global
// rank and corrects it with setUserRank afterwards, like CyTube.
func (ch *channel) announceUser(u *conn, rank float64) {
	ch.users = append(ch.users, u)
	for _, m := range ch.members {
		viewerRank := m.rank()
		if m == u {
			viewerRank = rank
		}
		m.emit("addUser", ch.entryFor(viewerRank, u, rank))
	}
	ch.serverNotice(u, u.ident.name+" joined (aliases: "+u.ident.name+")")
}

// broadcastUserMeta sends setUserMeta about u, rendered per viewer, to
// members of at least minRank.
func (ch *channel) broadcastUserMeta(u *conn, minRank float64) {
	for _, m := range ch.members {
		if m.rank() >= minRank {
			m.emit("setUserMeta", map[string]any{"name": u.ident.name, "meta": ch.metaFor(m.rank(), u)})
		}
	}
}

func (ch *channel) sendUserCount() { ch.broadcast("usercount", len(ch.members)) }

// kickDuplicates removes other sockets logged in under u's name, as CyTube
// does when one account joins twice.
func (ch *channel) kickDuplicates(u *conn) {
	for _, old := range slices.Clone(ch.users) {
		if old != u && strings.EqualFold(old.ident.name, u.ident.name) {
			u.srv.duplicateLogins++
			old.kick("Duplicate login")
		}
	}
}

// onJoinChannel handles joinChannel {"name"[,"pw"]}. Callers hold Server.mu.
func (c *conn) onJoinChannel(payload json.RawMessage) {
	if c.ch != nil {
		return // one channel per socket, as on CyTube
	}
	var req struct {
		Name *string `json:"name"`
		PW   *string `json:"pw"`
	}
	if jsTypeOf(payload) != "object" || json.Unmarshal(payload, &req) != nil || req.Name == nil {
		c.log.Warn("joinChannel without a channel name ignored")
		return
	}
	if !validChannelName(*req.Name) {
		c.emit("errorMsg", map[string]string{"msg": "Invalid channel name.  Channel names may consist of 1-30 " +
			"characters in the set a-z, A-Z, 0-9, -, and _"})
		c.kick("Invalid channel name")
		return
	}
	ch := c.srv.channelFor(strings.ToLower(*req.Name))
	if ch.password != "" && (req.PW == nil || *req.PW != ch.password) && !ch.passesPassword(c) {
		// CyTube says whether a password was given (false: none, true:
		// wrong) and waits for channelPassword or a login of rank >= 2.
		c.waitingFor = ch
		c.emit("needPassword", req.PW != nil)
		return
	}
	ch.join(c)
}

// passesPassword: a logged-in user of rank 2 or more needs no channel password.
func (ch *channel) passesPassword(c *conn) bool {
	return c.ident.registered && ch.rankOf(c.ident.name) >= rankModerator
}

// onChannelPassword answers channelPassword while a join waits for it.
func (c *conn) onChannelPassword(payload json.RawMessage) {
	ch := c.waitingFor
	if ch == nil || c.ch != nil {
		return
	}
	var pw string
	if json.Unmarshal(payload, &pw) != nil || pw != ch.password {
		c.emit("needPassword", true)
		return
	}
	c.admit()
}

// admit lets a socket waiting for a channel password in: cancelNeedPassword,
// then the join burst.
func (c *conn) admit() {
	ch := c.waitingFor
	c.waitingFor = nil
	c.emit("cancelNeedPassword", nil)
	ch.join(c)
}

// join sends the join burst in the recorded order and tells the others.
func (ch *channel) join(c *conn) {
	c.log.Info("joined channel", "channel", ch.name, "user", c.ident.name)
	if c.ident.loggedIn() {
		ch.kickDuplicates(c)
	}
	c.ch = ch
	ch.members = append(ch.members, c)
	if c.ident.registered {
		c.emit("rank", c.rank())
	}
	c.emit("setPermissions", ch.perms.raw)
	c.emit("setPlaylistLocked", ch.registered)
	c.emit("emoteList", []any{})
	for _, m := range ch.backlog {
		c.emit("chatMsg", m)
	}
	c.emit("drinkCount", 0)
	c.emit("channelCSSJS", emptyCSSJS())
	c.emit("setMotd", ch.motd)
	c.emit("channelOpts", ch.opts)
	c.sendPlaylist()
	if c.ident.registered {
		c.sendPlaylist() // CyTube resends it once the rank is known
	}
	c.sendNowPlaying()
	if c.ident.loggedIn() {
		ch.announceUserToOthers(c)
	}
	c.emit("userlist", ch.userlistFor(c))
	ch.sendUserCount()
	if !ch.registered {
		c.emit("channelNotRegistered", nil)
	}
	if c.ident.registered {
		c.emit("listPlaylists", []any{})
	}
	c.due(c.srv.opts.Hooks.AfterJoin)
	ch.kickIfBanned(c)
}

// announceUserToOthers is announceUser for a socket that logged in before it
// joined: it sees itself in the burst's userlist instead of an addUser.
func (ch *channel) announceUserToOthers(u *conn) {
	ch.users = append(ch.users, u)
	for _, m := range ch.members {
		if m != u {
			m.emit("addUser", ch.entryFor(m.rank(), u, u.rank()))
		}
	}
	ch.serverNotice(u, u.ident.name+" joined (aliases: "+u.ident.name+")")
}

// leaveChannel takes the socket out of its channel; others see userLeave if
// it was logged in. Callers hold Server.mu.
func (c *conn) leaveChannel() {
	ch := c.ch
	if ch == nil {
		return
	}
	c.ch = nil
	c.afk = false
	ch.members = slices.DeleteFunc(ch.members, func(m *conn) bool { return m == c })
	wasUser := slices.Contains(ch.users, c)
	ch.users = slices.DeleteFunc(ch.users, func(m *conn) bool { return m == c })
	if wasUser {
		ch.broadcast("userLeave", map[string]string{"name": c.ident.name})
	}
	ch.sendUserCount()
	c.log.Info("left channel", "channel", ch.name, "user", c.ident.name)
	if !ch.registered && len(ch.members) == 0 {
		// CyTube unloads an empty unregistered channel and its chat with it.
		delete(c.srv.channels, ch.name)
	}
}
