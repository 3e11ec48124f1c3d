// Package messages holds every message that crosses an actor boundary in daz,
// one file per topic family. Messages are plain values: they carry no PIDs
// unless a reply address is part of the protocol, and they are never mutated
// after being sent.
package messages

import (
	"encoding/json"
	"fmt"
	"time"
)

// EventTopicPrefix is the bus topic family of decoded server events; an
// event's full topic is EventTopicPrefix + its Socket.IO event name.
const EventTopicPrefix = "cytube.event."

// Event is one server-to-client Socket.IO event ("42[name,payload]") as
// received on one channel's connection (topic cytube.event.<Name>).
//
// Raw keeps the payload bytes exactly as the server sent them so the chat log
// can store the full payload losslessly; Body is the typed view of the same
// payload (*ChatMsg, *AddUser, ... or *RawEvent for names daz does not know).
//
// Burst, Backlog and Own are stamped once, by the connection's reader, before
// the event reaches any sink (connection.JoinTracker), so no sink tracks
// socket boundaries or our own login name again. Events that do not come
// from a socket (Seq 0) carry them as their sender set them.
type Event struct {
	Channel  string
	Name     string
	Seq      uint64 // per-connection receive order, starts at 1 for each socket
	Received time.Time
	Raw      json.RawMessage
	Body     any

	// Burst: the event arrived in its socket's join burst, before the
	// burst's userlist (the userlist itself is not). Until the burst is over
	// the socket is not yet in the channel as far as the sinks can tell.
	Burst bool
	// Backlog: a chatMsg the server replayed from its history on join —
	// one that came in the burst, or whose server time is older than the
	// socket's first event minus the tolerated clock skew. It is logged but
	// never answered.
	Backlog bool
	// Own: the event is by or about our own login (the configured username,
	// then the name in the login reply): the echo of our chatMsg or pm, or
	// a setUserMeta of our user.
	Own bool
}

// Topic returns the bus topic of the event, e.g. "cytube.event.chatMsg".
func (e *Event) Topic() string { return EventTopicPrefix + e.Name }

// ServerTime returns the server's own timestamp for events that carry one
// (chatMsg, pm) and ok=false otherwise.
func (e *Event) ServerTime() (time.Time, bool) {
	switch b := e.Body.(type) {
	case *ChatMsg:
		if b.Time > 0 {
			return time.UnixMilli(b.Time), true
		}
	case *Pm:
		if b.Time > 0 {
			return time.UnixMilli(b.Time), true
		}
	}
	return time.Time{}, false
}

// RawEvent is the typed fallback for an event name daz has no struct for. It
// is logged and counted like any other event and never fails decoding.
type RawEvent struct {
	Name    string
	Payload json.RawMessage
}

// ChatMsg is a chat line. Msg is the sanitized HTML exactly as the server sent
// it; Text is the plain text (tags stripped, entities unescaped once) that
// command matching and the chat log's message column use.
type ChatMsg struct {
	Username string          `json:"username"`
	Msg      string          `json:"msg"`
	Meta     json.RawMessage `json:"meta,omitempty"`
	Time     int64           `json:"time"` // epoch milliseconds, server clock
	Text     string          `json:"-"`
}

// Pm is a private message; the sender also receives an echo of its own PMs.
type Pm struct {
	Username string          `json:"username"`
	To       string          `json:"to"`
	Msg      string          `json:"msg"`
	Meta     json.RawMessage `json:"meta,omitempty"`
	Time     int64           `json:"time"`
	Text     string          `json:"-"`
}

// UserProfile is the profile block of a user entry.
type UserProfile struct {
	Image string `json:"image"`
	Text  string `json:"text"`
}

// UserMeta is the meta block of a user entry. Moderators also see smuted,
// aliases and a cloaked ip; those stay in the raw payload.
type UserMeta struct {
	AFK    bool `json:"afk"`
	Muted  bool `json:"muted"`
	SMuted bool `json:"smuted,omitempty"`
}

// User is one entry of userlist / addUser. Ranks are fractional (1.5 exists).
type User struct {
	Name    string      `json:"name"`
	Rank    float64     `json:"rank"`
	Profile UserProfile `json:"profile"`
	Meta    UserMeta    `json:"meta"`
}

// AddUser announces a logged-in user joining (or the bot itself after login).
type AddUser struct{ User }

// UserLeave announces a logged-in user leaving.
type UserLeave struct {
	Name string `json:"name"`
}

// UserList is the full list of logged-in users.
type UserList struct{ Users []User }

// SetUserRank reports a user's channel rank change.
type SetUserRank struct {
	Name string  `json:"name"`
	Rank float64 `json:"rank"`
}

// Rank is our own rank (global first, then channel); it may repeat.
type Rank struct{ Rank float64 }

// Login is the server's reply to our login.
type Login struct {
	Success bool   `json:"success"`
	Name    string `json:"name"`
	Guest   bool   `json:"guest"`
	Error   string `json:"error"`
}

// Kick means the server is throwing this socket out; a "41" follows.
type Kick struct {
	Reason string `json:"reason"`
}

// Cooldown means the server dropped our last chat/PM for flooding; Millis is
// how long to wait before sending again.
type Cooldown struct{ Millis int64 }

// NoFlood is sent instead of broadcasting our chat, e.g. while we are muted.
type NoFlood struct {
	Action string `json:"action"`
	Msg    string `json:"msg"`
}

// ErrorMsg is a generic server error shown to the user.
type ErrorMsg struct {
	Msg string `json:"msg"`
}

// Media is a playlist media description.
type Media struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Seconds  float64         `json:"seconds"`
	Duration string          `json:"duration"`
	Type     string          `json:"type"`
	Meta     json.RawMessage `json:"meta,omitempty"`
}

// ChangeMedia starts playing a media item.
type ChangeMedia struct {
	Media
	CurrentTime float64 `json:"currentTime"`
	Paused      bool    `json:"paused"`
}

// MediaUpdate is the periodic playback position.
type MediaUpdate struct {
	CurrentTime float64 `json:"currentTime"`
	Paused      bool    `json:"paused"`
}

// PlaylistItem is one entry of the playlist.
type PlaylistItem struct {
	Media   Media  `json:"media"`
	UID     int64  `json:"uid"`
	Temp    bool   `json:"temp"`
	QueueBy string `json:"queueby"`
}

// Playlist is the whole playlist: one frame of up to several hundred KB,
// sent twice per join and again on every reconnect. Nothing in daz reads
// its entries while the join burst is logged, and decoding 2000 of them
// cost ~25 ms per frame, so Raw is kept (checked to be a JSON array) and
// Items decodes it on demand.
type Playlist struct{ Raw json.RawMessage }

// Items decodes the playlist's entries; each call decodes Raw anew, so
// keep the result rather than calling it twice.
func (p *Playlist) Items() ([]PlaylistItem, error) {
	items := []PlaylistItem{}
	if err := json.Unmarshal(p.Raw, &items); err != nil {
		return nil, fmt.Errorf("decode playlist: %w", err)
	}
	return items, nil
}

// Queue announces an item added to the playlist.
type Queue struct {
	Item  PlaylistItem    `json:"item"`
	After json.RawMessage `json:"after"` // a uid or the string "prepend"
}

// QueueFail reports a failed queue attempt.
type QueueFail struct {
	Msg  string `json:"msg"`
	Link string `json:"link"`
	ID   string `json:"id"`
}

// Delete removes a playlist item.
type Delete struct {
	UID int64 `json:"uid"`
}

// SetCurrent names the uid now playing.
type SetCurrent struct{ UID int64 }

// SetPlaylistMeta summarises the playlist.
type SetPlaylistMeta struct {
	Count   int64   `json:"count"`
	RawTime float64 `json:"rawTime"`
	Time    string  `json:"time"`
}

// SetPlaylistLocked reports whether the playlist is locked.
type SetPlaylistLocked struct{ Locked bool }

// AntifloodParams are a channel's chat limits for users below moderator.
type AntifloodParams struct {
	Burst     float64 `json:"burst"`
	Sustained float64 `json:"sustained"`
	Cooldown  float64 `json:"cooldown"`
}

// ChannelOpts are the channel's options; only what daz uses is typed.
type ChannelOpts struct {
	ChatAntiflood       bool            `json:"chat_antiflood"`
	ChatAntifloodParams AntifloodParams `json:"chat_antiflood_params"`
	Password            json.RawMessage `json:"password"`
	PageTitle           string          `json:"pagetitle"`
}

// SetPermissions maps permission names to the minimum rank.
type SetPermissions struct{ Perms map[string]float64 }

// SetAFK reports a user's AFK flag.
type SetAFK struct {
	Name string `json:"name"`
	AFK  bool   `json:"afk"`
}

// SetUserMeta replaces a user's meta block.
type SetUserMeta struct {
	Name string   `json:"name"`
	Meta UserMeta `json:"meta"`
}

// UserCount is the throttled viewer count.
type UserCount struct{ Count int64 }

// SetMotd is the channel's message of the day (sanitized HTML).
type SetMotd struct{ HTML string }

// NeedPassword says the channel wants a password (Wrong: a password was given
// and it was wrong).
type NeedPassword struct{ Wrong bool }

// CancelNeedPassword confirms a correct channel password.
type CancelNeedPassword struct{}

// ChannelNotRegistered ends the join burst of an unregistered channel.
type ChannelNotRegistered struct{}

// PartitionChange carries a new socketconfig: reconnect through discovery.
type PartitionChange struct {
	Config json.RawMessage
}

// EmoteList is the channel's emotes (kept raw).
type EmoteList struct{ Emotes json.RawMessage }

// DrinkCount is the channel's drink counter.
type DrinkCount struct{ Count int64 }

// ChannelCSSJS is the channel's custom CSS/JS.
type ChannelCSSJS struct {
	CSS     string `json:"css"`
	CSSHash string `json:"cssHash"`
	JS      string `json:"js"`
	JSHash  string `json:"jsHash"`
}

// ListPlaylists is the user's saved playlists (kept raw).
type ListPlaylists struct{ Playlists json.RawMessage }

// BanEntry is one ban.
type BanEntry struct {
	ID       int64  `json:"id"`
	IP       string `json:"ip"`
	Name     string `json:"name"`
	Reason   string `json:"reason"`
	BannedBy string `json:"bannedby"`
}

// Banlist answers requestBanlist.
type Banlist struct{ Bans []BanEntry }

// BanlistRemove reports an unban.
type BanlistRemove struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ChannelRank is one entry of channelRanks.
type ChannelRank struct {
	Name    string  `json:"name"`
	Rank    float64 `json:"rank"`
	Channel string  `json:"channel"`
}

// ChannelRanks answers requestChannelRanks.
type ChannelRanks struct{ Ranks []ChannelRank }

// ClearVoteskipVote resets our voteskip vote.
type ClearVoteskipVote struct{}

// VoteSkip is the voteskip tally.
type VoteSkip struct {
	Count float64 `json:"count"`
	Need  float64 `json:"need"`
}
