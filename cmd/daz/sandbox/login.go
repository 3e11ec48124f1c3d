package sandbox

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Login failure texts, as CyTube 3.86 words them.
const (
	errBadPassword     = "Invalid username/password combination"
	errNoSuchUser      = "User does not exist"
	errNameRegistered  = "That username is registered."
	errNameReserved    = "That username is reserved."
	errGuestNameFormat = "Invalid username.  Usernames must be 1-20 characters long and consist only of " +
		"characters a-z, A-Z, 0-9, -, or _."
	// errNameInUse was not recorded; CyTube refuses a guest name someone in
	// the channel already uses, and this is our wording for it.
	errNameInUse = "That name is already in use on this channel."
)

// reservedNames cannot be taken by guests. CyTube's list is longer; these are
// the names a newcomer is likely to try.
func reservedName(name string) bool {
	switch strings.ToLower(name) {
	case "admin", "administrator", "moderator", "mod", "root", "server", "system":
		return true
	}
	return false
}

type loginResult struct {
	Success bool   `json:"success"`
	Name    string `json:"name,omitempty"`
	Guest   bool   `json:"guest,omitempty"`
	Error   string `json:"error,omitempty"`
}

// onLogin handles login {"name","pw"} (account) or {"name"} (guest). Callers
// hold Server.mu.
func (c *conn) onLogin(payload json.RawMessage) {
	if c.ident.loggedIn() {
		return
	}
	var req struct {
		Name *string `json:"name"`
		PW   *string `json:"pw"`
	}
	if jsTypeOf(payload) != "object" || json.Unmarshal(payload, &req) != nil || req.Name == nil {
		c.log.Warn("login without a string name ignored")
		return
	}
	if req.PW != nil && *req.PW != "" {
		c.accountLogin(*req.Name, *req.PW)
		return
	}
	c.guestLogin(*req.Name)
}

func (c *conn) loginFailed(reason string) {
	c.log.Info("login refused", "reason", reason)
	c.emit("login", loginResult{Success: false, Error: reason})
}

func (c *conn) accountLogin(name, pw string) {
	if !validUserName(name) {
		c.loginFailed(fmt.Sprintf("Invalid username %q", name))
		return
	}
	acc, ok := c.srv.accounts[strings.ToLower(name)]
	switch {
	case !ok:
		c.loginFailed(errNoSuchUser)
		return
	case acc.Password != pw:
		c.loginFailed(errBadPassword)
		return
	}
	c.emit("rank", rankRegistered)
	c.ident = identity{name: acc.name, registered: true}
	c.emit("login", loginResult{Success: true, Name: acc.name})
	c.log.Info("logged in", "user", acc.name)
	c.due(c.srv.opts.Hooks.AfterLogin)
	if w := c.waitingFor; w != nil && c.ch == nil && w.passesPassword(c) {
		c.admit() // a moderator needs no channel password: the burst follows
		return
	}
	ch := c.ch
	if ch == nil {
		return // the rank and the user list follow on joinChannel
	}
	ch.kickDuplicates(c)
	ch.announceUser(c, rankRegistered)
	rank := ch.rankOf(acc.name)
	c.emit("rank", rank)
	ch.broadcastExcept(c, "setUserRank", userRank{Name: acc.name, Rank: rank})
	if rank >= rankModerator {
		c.emit("userlist", ch.userlistFor(c)) // now with moderator metadata
	}
	c.sendPlaylist()
	c.emit("setUserRank", userRank{Name: acc.name, Rank: rank})
	ch.kickIfBanned(c)
}

func (c *conn) guestLogin(name string) {
	s := c.srv
	switch {
	case !validUserName(name):
		c.loginFailed(errGuestNameFormat)
		return
	case s.accounts[strings.ToLower(name)].name != "":
		c.loginFailed(errNameRegistered)
		return
	case reservedName(name):
		c.loginFailed(errNameReserved)
		return
	case c.ch != nil && c.ch.userByName(name) != nil:
		c.loginFailed(errNameInUse)
		return
	}
	if limit := s.opts.GuestLoginInterval; limit > 0 {
		now := s.now()
		if last, ok := s.guestLogins[c.ip]; ok && now.Sub(last) < limit {
			c.loginFailed(fmt.Sprintf("Guest logins are restricted to one per IP address per %d seconds.",
				int(limit.Seconds())))
			return
		}
		s.guestLogins[c.ip] = now
	}
	c.emit("rank", rankGuest)
	c.ident = identity{name: name, guest: true}
	c.emit("login", loginResult{Success: true, Name: name, Guest: true})
	c.log.Info("guest logged in", "user", name)
	c.due(c.srv.opts.Hooks.AfterLogin)
	if c.ch != nil {
		c.ch.announceUser(c, rankGuest)
		c.ch.kickIfBanned(c)
	}
}

type userRank struct {
	Name string  `json:"name"`
	Rank float64 `json:"rank"`
}

// due queues a test hook to run once the current event is handled. Callers
// hold Server.mu.
func (c *conn) due(hook func(*Socket)) {
	if hook != nil {
		c.dueHooks = append(c.dueHooks, hook)
	}
}
