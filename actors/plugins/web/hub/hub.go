// Package hub is the in-process meeting point between the web plugin of each
// channel (which sees the channel's live events) and the web server (which
// streams them to browsers and shows who is online). It keeps, per channel,
// the roster, what is playing and the connection state, and a backlog of
// the latest live events that subscribers take at their own pace, so the
// publisher never waits: a subscriber that falls too far behind is
// dropped.
//
// PMs never enter the hub: the web plugin does not subscribe to them and the
// hub has no kind for them.
package hub

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event kinds streamed to subscribers.
const (
	KindChat  = "chat"
	KindJoin  = "join"
	KindLeave = "leave"
	KindRank  = "rank"
	KindMedia = "media"
	KindState = "state"
)

// Event is one thing that happened in a channel, as the web shows it.
type Event struct {
	Seq     uint64    `json:"seq"`
	Channel string    `json:"channel"`
	Kind    string    `json:"kind"`
	User    string    `json:"user,omitempty"`
	Rank    float64   `json:"rank,omitempty"`
	Text    string    `json:"text,omitempty"`
	At      time.Time `json:"at"`
	// Hidden lines are for moderators only: [server] whispers and the lines
	// of shadow-muted users.
	Hidden bool        `json:"hidden,omitempty"`
	Media  *NowPlaying `json:"media,omitempty"`
	State  string      `json:"state,omitempty"`

	// Frame is the event as one server-sent event ("id:", "event:",
	// "data:" and the blank line), encoded once when it is published,
	// however many streams send it. Shared: never modify it.
	Frame []byte `json:"-"`
}

// encodeFrame builds ev's server-sent event.
func encodeFrame(ev *Event) []byte {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil // the fields are plain strings and numbers; cannot happen
	}
	buf := make([]byte, 0, len(data)+len(ev.Kind)+32)
	buf = append(buf, "id: "...)
	buf = strconv.AppendUint(buf, ev.Seq, 10)
	buf = append(buf, "\nevent: "...)
	buf = append(buf, ev.Kind...)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, data...)
	return append(buf, "\n\n"...)
}

// Member is one person in a channel's roster.
type Member struct {
	Name string  `json:"name"`
	Rank float64 `json:"rank"`
	AFK  bool    `json:"afk,omitempty"`
	// SMuted users are shown to moderators only.
	SMuted bool `json:"-"`
}

// NowPlaying is the media a channel is playing.
type NowPlaying struct {
	Title   string    `json:"title"`
	Type    string    `json:"type"`
	ID      string    `json:"id"`
	Seconds float64   `json:"seconds"`
	Since   time.Time `json:"since"`
}

// Snapshot is a channel's live state at one moment (copied; safe to keep).
type Snapshot struct {
	Channel    string      `json:"channel"`
	Known      bool        `json:"-"` // the web plugin of this channel has reported
	State      string      `json:"state"`
	StateSince time.Time   `json:"state_since,omitzero"`
	Users      []Member    `json:"users"`
	NowPlaying *NowPlaying `json:"now_playing,omitempty"`
	// Retry is the connection's retry state, for moderators only.
	Retry *Retry `json:"-"`
}

// Retry is what the connection's supervisor last reported beyond the state.
type Retry struct {
	Attempt   int
	Until     time.Time
	LastError string
	Reason    string
}

// Sayer sends a line as the bot in one channel through its outbound queue;
// by names who asked (for the log).
type Sayer func(text, by string) bool

// Sub is one subscriber of a channel's events. It reads them from the
// channel's backlog at its own pace (Ready, Take): publishing a line does no
// work per subscriber, so a busy channel with many live streams costs each
// stream one wake-up per batch it takes, not one per line.
type Sub struct {
	hub     *Hub
	channel string
	next    uint64 // the channel's count of the next event to take; under hub.mu
	behind  uint64 // how far behind it may fall
	gone    chan struct{}
	once    sync.Once
}

// Dropped is closed when the hub dropped this subscriber for being too slow
// (or it unsubscribed).
func (s *Sub) Dropped() <-chan struct{} { return s.gone }

func (s *Sub) drop() { s.once.Do(func() { close(s.gone) }) }

// closed is a channel that is always ready.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Ready is closed (now, or when it comes) once there is an event to take.
func (s *Sub) Ready() <-chan struct{} {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	c := s.hub.ch(s.channel)
	if c.count > s.next {
		return closed
	}
	if c.wake == nil {
		c.wake = make(chan struct{})
	}
	return c.wake
}

// Take appends the events published since the last Take to dst, oldest
// first, and returns it. Every subscriber gets the same *Event; it must not
// be modified. ok is false when the subscriber fell more than its backlog
// behind: it is dropped and missed events.
func (s *Sub) Take(dst []*Event) (events []*Event, ok bool) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	c := s.hub.ch(s.channel)
	select {
	case <-s.gone:
		return dst, false
	default:
	}
	if c.count-s.next > s.behind {
		// Never wait for a slow reader: it is dropped and its browser
		// reconnects (EventSource does so by itself).
		delete(c.subs, s)
		s.drop()
		s.hub.dropped++
		return dst, false
	}
	for ; s.next < c.count; s.next++ {
		dst = append(dst, c.ring[s.next%uint64(len(c.ring))])
	}
	return dst, true
}

// Backlog is how many of a channel's latest events the hub keeps for its
// subscribers, and so the most one may fall behind.
const Backlog = 1024

type channelState struct {
	known      bool
	state      string
	stateSince time.Time
	users      map[string]Member // by lower-case name
	playing    *NowPlaying
	retry      Retry
	sayer      Sayer
	subs       map[*Sub]struct{}
	// The latest Backlog events (once there are subscribers), by count
	// modulo Backlog; count is how many were published.
	ring  []*Event
	count uint64
	wake  chan struct{} // closed at the next event; nil when nobody waits
}

// Hub is safe for concurrent use.
type Hub struct {
	mu       sync.RWMutex
	seq      uint64
	channels map[string]*channelState
	dropped  uint64
	issuer   LoginIssuer
}

// New returns an empty hub.
func New() *Hub { return &Hub{channels: map[string]*channelState{}} }

func (h *Hub) ch(channel string) *channelState {
	channel = strings.ToLower(channel)
	c := h.channels[channel]
	if c == nil {
		c = &channelState{users: map[string]Member{}, subs: map[*Sub]struct{}{}}
		h.channels[channel] = c
	}
	return c
}

// Subscribe starts delivering channel's events from the next one on;
// behind is how many may wait untaken before the subscriber is dropped (at
// most Backlog).
func (h *Hub) Subscribe(channel string, behind int) *Sub {
	channel = strings.ToLower(channel)
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.ch(channel)
	if c.ring == nil {
		c.ring = make([]*Event, Backlog)
	}
	s := &Sub{hub: h, channel: channel, next: c.count, behind: uint64(min(max(behind, 1), Backlog)), gone: make(chan struct{})}
	c.subs[s] = struct{}{}
	return s
}

// Unsubscribe stops delivery to s.
func (h *Hub) Unsubscribe(s *Sub) {
	h.mu.Lock()
	if c := h.channels[s.channel]; c != nil {
		delete(c.subs, s)
	}
	h.mu.Unlock()
	s.drop()
}

// Subscribers counts a channel's subscribers.
func (h *Hub) Subscribers(channel string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if c := h.channels[strings.ToLower(channel)]; c != nil {
		return len(c.subs)
	}
	return 0
}

// DroppedTotal counts subscribers dropped for being slow.
func (h *Hub) DroppedTotal() uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.dropped
}

// publish stamps ev and puts it in the channel's backlog for the
// subscribers to take; the caller holds mu. The event is encoded once
// here, so a line costs the same JSON whatever the number of streams, and
// publishing never waits for any of them.
func (h *Hub) publish(c *channelState, ev Event) {
	h.seq++
	ev.Seq = h.seq
	if len(c.subs) == 0 {
		return // a subscriber starts at the next event
	}
	ev.Frame = encodeFrame(&ev)
	c.ring[c.count%uint64(len(c.ring))] = &ev
	c.count++
	if c.wake != nil {
		close(c.wake)
		c.wake = nil
	}
}

// Chat publishes a chat line.
func (h *Hub) Chat(channel, user, text string, at time.Time, hidden bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.ch(channel)
	h.publish(c, Event{Channel: channel, Kind: KindChat, User: user, Text: text, At: at, Hidden: hidden})
}

// SetUsers replaces the roster (the server's userlist).
func (h *Hub) SetUsers(channel string, users []Member, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.ch(channel)
	c.known = true
	c.users = make(map[string]Member, len(users))
	for _, u := range users {
		c.users[strings.ToLower(u.Name)] = u
	}
}

// Join adds or updates one member.
func (h *Hub) Join(channel string, m Member, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.ch(channel)
	c.known = true
	_, was := c.users[strings.ToLower(m.Name)]
	c.users[strings.ToLower(m.Name)] = m
	if !was {
		h.publish(c, Event{Channel: channel, Kind: KindJoin, User: m.Name, Rank: m.Rank, At: at, Hidden: m.SMuted})
	}
}

// Leave removes one member.
func (h *Hub) Leave(channel, name string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.ch(channel)
	m, was := c.users[strings.ToLower(name)]
	delete(c.users, strings.ToLower(name))
	if was {
		h.publish(c, Event{Channel: channel, Kind: KindLeave, User: m.Name, At: at, Hidden: m.SMuted})
	}
}

// SetRank records a member's new rank.
func (h *Hub) SetRank(channel, name string, rank float64, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.ch(channel)
	m, ok := c.users[strings.ToLower(name)]
	if !ok {
		return
	}
	m.Rank = rank
	c.users[strings.ToLower(name)] = m
	h.publish(c, Event{Channel: channel, Kind: KindRank, User: m.Name, Rank: rank, At: at, Hidden: m.SMuted})
}

// SetAFK records a member's AFK flag.
func (h *Hub) SetAFK(channel, name string, afk bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.ch(channel)
	if m, ok := c.users[strings.ToLower(name)]; ok {
		m.AFK = afk
		c.users[strings.ToLower(name)] = m
	}
}

// SetSMuted records whether a member is shadow-muted.
func (h *Hub) SetSMuted(channel, name string, smuted bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.ch(channel)
	if m, ok := c.users[strings.ToLower(name)]; ok {
		m.SMuted = smuted
		c.users[strings.ToLower(name)] = m
	}
}

// IsSMuted reports whether a member is shadow-muted now.
func (h *Hub) IsSMuted(channel, name string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if c := h.channels[channel]; c != nil {
		return c.users[strings.ToLower(name)].SMuted
	}
	return false
}

// Play records what started playing.
func (h *Hub) Play(channel string, np NowPlaying) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.ch(channel)
	c.playing = &np
	h.publish(c, Event{Channel: channel, Kind: KindMedia, Media: &np, At: np.Since})
}

// SetRetry records the detail of the latest connection state.
func (h *Hub) SetRetry(channel string, r Retry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ch(channel).retry = r
}

// SetState records the channel's connection state; going offline empties
// the roster, since nobody is known to be there any more.
func (h *Hub) SetState(channel, state string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.ch(channel)
	c.known = true
	if c.state == state {
		return
	}
	c.state, c.stateSince = state, at
	if state != "online" {
		c.users = map[string]Member{}
	}
	h.publish(c, Event{Channel: channel, Kind: KindState, State: state, At: at})
}

// SetSayer attaches (or with nil detaches) the channel's way to speak.
func (h *Hub) SetSayer(channel string, s Sayer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ch(channel).sayer = s
}

// Say sends text as the bot in channel; false when the channel has no
// running web plugin to take it.
func (h *Hub) Say(channel, text, by string) bool {
	h.mu.RLock()
	var s Sayer
	if c := h.channels[strings.ToLower(channel)]; c != nil {
		s = c.sayer
	}
	h.mu.RUnlock()
	return s != nil && s(text, by)
}

// Rank is a member's rank in the live roster; ok is false when they are not
// in the channel now.
func (h *Hub) Rank(channel, name string) (rank float64, ok bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	c := h.channels[strings.ToLower(channel)]
	if c == nil {
		return 0, false
	}
	m, ok := c.users[strings.ToLower(name)]
	return m.Rank, ok
}

// Snapshot copies a channel's live state; moderators also see shadow-muted
// members. Members are sorted by rank (highest first), then name.
func (h *Hub) Snapshot(channel string, moderator bool) Snapshot {
	channel = strings.ToLower(channel)
	h.mu.RLock()
	defer h.mu.RUnlock()
	snap := Snapshot{Channel: channel, State: "unknown", Users: []Member{}}
	c := h.channels[channel]
	if c == nil {
		return snap
	}
	snap.Known = c.known
	if c.state != "" {
		snap.State, snap.StateSince = c.state, c.stateSince
	}
	for _, m := range c.users {
		if m.SMuted && !moderator {
			continue
		}
		snap.Users = append(snap.Users, m)
	}
	slices.SortFunc(snap.Users, func(a, b Member) int {
		if a.Rank != b.Rank {
			if a.Rank > b.Rank {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	if c.playing != nil {
		np := *c.playing
		snap.NowPlaying = &np
	}
	if moderator {
		r := c.retry
		snap.Retry = &r
	}
	return snap
}

// LoginIssuer mints a one-time sign-in link for user in channel.
type LoginIssuer func(channel, user string) (url string, ok bool)

// SetLoginIssuer is called by the web server when it starts.
func (h *Hub) SetLoginIssuer(f LoginIssuer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.issuer = f
}

// IssueLogin asks the web server for a sign-in link; false when no web
// server is running.
func (h *Hub) IssueLogin(channel, user string) (string, bool) {
	h.mu.RLock()
	f := h.issuer
	h.mu.RUnlock()
	if f == nil {
		return "", false
	}
	return f(strings.ToLower(channel), user)
}
