package sandbox

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

// The playlist: queue, delete, playNext and playback with mediaUpdate, as
// testdata/frames/README.md ("Media") describes CyTube's. The sandbox fetches
// nothing: Options.ResolveMedia (default: defaultResolveMedia) says what an
// id is.

// Media is what a queued id resolves to.
type Media struct {
	ID      string          `json:"id"`
	Title   string          `json:"title"`
	Seconds int             `json:"seconds"`
	Type    string          `json:"type"`
	Meta    json.RawMessage `json:"meta,omitempty"`
}

// mediaLeadIn is CyTube's pause before a new item starts: it is announced at
// currentTime -3.
const mediaLeadIn = 3 * time.Second

// defaultMediaSeconds is the length of every item the default resolver
// accepts.
const defaultMediaSeconds = 180

// defaultResolveMedia accepts custom media ("cm") and YouTube ids ("yt"),
// naming them after their last path segment; other types fail as raw files
// do on a server without ffmpeg.
func defaultResolveMedia(typ, id string) (Media, error) {
	switch typ {
	case "cm":
		u, err := url.Parse(id)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return Media{}, QueueFail("Invalid custom media URL")
		}
		return Media{ID: id, Title: strings.TrimSuffix(path.Base(u.Path), ".json"), Seconds: defaultMediaSeconds,
			Type: typ, Meta: json.RawMessage(`{}`)}, nil
	case "yt":
		return Media{ID: id, Title: id, Seconds: defaultMediaSeconds, Type: typ, Meta: json.RawMessage(`{}`)}, nil
	}
	return Media{}, QueueFail("Raw file playback is not enabled on this server")
}

// QueueFail is a refusal worded for the user: its text goes into queueFail
// as it is, CyTube's capitals included. Other resolver errors do too.
type QueueFail string

func (q QueueFail) Error() string { return string(q) }

type wireMedia struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Seconds  int             `json:"seconds"`
	Duration string          `json:"duration"`
	Type     string          `json:"type"`
	Meta     json.RawMessage `json:"meta"`
}

func (m Media) wire() wireMedia {
	meta := m.Meta
	if len(meta) == 0 {
		meta = json.RawMessage(`{}`)
	}
	return wireMedia{ID: m.ID, Title: m.Title, Seconds: m.Seconds, Duration: formatDuration(m.Seconds),
		Type: m.Type, Meta: meta}
}

type playlistItem struct {
	Media   wireMedia `json:"media"`
	UID     int       `json:"uid"`
	Temp    bool      `json:"temp"`
	QueueBy string    `json:"queueby"`
}

// playback is a channel's playlist. Guarded by Server.mu.
type playback struct {
	items   []playlistItem
	nextUID int
	current int       // uid playing, -1 for none
	started time.Time // when current's currentTime was -3
}

// formatDuration renders seconds as CyTube does: MM:SS, or H:MM:SS past an
// hour with hours unpadded beyond two digits.
func formatDuration(seconds int) string {
	h, m, s := seconds/3600, seconds/60%60, seconds%60
	if h > 0 {
		return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", m, s)
}

func (ch *channel) playlistMeta() playlistMeta {
	total := 0
	for _, it := range ch.play.items {
		total += it.Media.Seconds
	}
	return playlistMeta{Count: len(ch.play.items), RawTime: total, Time: formatDuration(total)}
}

func (ch *channel) indexOf(uid int) int {
	return slices.IndexFunc(ch.play.items, func(it playlistItem) bool { return it.UID == uid })
}

// sendPlaylist is the playlist part of a join burst or login.
func (c *conn) sendPlaylist() {
	ch := c.ch
	c.emit("setPlaylistMeta", ch.playlistMeta())
	c.emit("playlist", append([]playlistItem{}, ch.play.items...))
	if ch.play.current >= 0 {
		c.emit("setCurrent", ch.play.current)
	}
}

// sendNowPlaying tells a joiner what is playing and where.
func (c *conn) sendNowPlaying() {
	ch := c.ch
	i := ch.indexOf(ch.play.current)
	if i < 0 {
		return
	}
	c.emit("setCurrent", ch.play.current)
	c.emit("changeMedia", ch.mediaState(ch.play.items[i]))
}

// playhead is mediaUpdate's payload.
type playhead struct {
	CurrentTime float64 `json:"currentTime"`
	Paused      bool    `json:"paused"`
}

// mediaState is changeMedia's payload: the media plus the playhead, in wire
// order.
type mediaState struct {
	wireMedia
	playhead
}

func (ch *channel) playhead() playhead {
	pos := ch.srv.now().Sub(ch.play.started) - mediaLeadIn
	return playhead{CurrentTime: math.Round(pos.Seconds()*1000) / 1000, Paused: pos < 0}
}

func (ch *channel) mediaState(it playlistItem) mediaState {
	return mediaState{wireMedia: it.Media, playhead: ch.playhead()}
}

// start makes the item at index i current and tells everyone.
func (ch *channel) start(i int) {
	it := ch.play.items[i]
	ch.play.current = it.UID
	ch.play.started = ch.srv.now()
	ch.broadcast("setCurrent", it.UID)
	ch.broadcast("changeMedia", ch.mediaState(it))
	ch.broadcast("voteskip", struct {
		Count int `json:"count"`
		Need  int `json:"need"`
	}{0, int(math.Ceil(float64(len(ch.users)) * ch.opts.VoteskipRatio))})
}

// advance ends the current item: a temp one leaves the playlist; the next
// item starts, wrapping to the first.
func (ch *channel) advance() {
	i := ch.indexOf(ch.play.current)
	ch.play.current = -1
	if i < 0 {
		return
	}
	next := i + 1
	if ch.play.items[i].Temp {
		ch.remove(i)
		next = i
	}
	if len(ch.play.items) == 0 {
		return
	}
	ch.start(next % len(ch.play.items))
}

func (ch *channel) remove(i int) {
	uid := ch.play.items[i].UID
	ch.play.items = slices.Delete(ch.play.items, i, i+1)
	ch.broadcast("delete", map[string]int{"uid": uid})
	ch.broadcast("setPlaylistMeta", ch.playlistMeta())
}

// onQueue handles queue {"id","type","pos","temp"}. Without the permission
// there is no reply at all, as on CyTube.
func (c *conn) onQueue(payload json.RawMessage) {
	ch := c.ch
	var req struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Pos  string `json:"pos"`
		Temp *bool  `json:"temp"`
	}
	if ch == nil || jsTypeOf(payload) != "object" || json.Unmarshal(payload, &req) != nil || req.ID == "" {
		return
	}
	temp := req.Temp == nil || *req.Temp
	perm := "playlistadd"
	if req.Pos == "next" {
		perm = "playlistnext"
	}
	if c.rank() < ch.perms.minRank(perm) || (!temp && c.rank() < ch.perms.minRank("addnontemp")) {
		return
	}
	fail := func(msg string) {
		c.emit("queueFail", struct {
			Msg  string `json:"msg"`
			Link string `json:"link"`
			ID   string `json:"id"`
		}{msg, req.ID, req.ID})
	}
	if slices.ContainsFunc(ch.play.items, func(it playlistItem) bool {
		return it.Media.ID == req.ID && it.Media.Type == req.Type
	}) {
		fail("This item is already on the playlist")
		return
	}
	media, err := c.srv.opts.ResolveMedia(req.Type, req.ID)
	if err != nil {
		fail(err.Error())
		return
	}
	it := playlistItem{Media: media.wire(), UID: ch.play.nextUID, Temp: temp, QueueBy: c.ident.name}
	ch.play.nextUID++
	at := len(ch.play.items)
	if cur := ch.indexOf(ch.play.current); req.Pos == "next" {
		at = cur + 1
	}
	var after any = "prepend"
	if at > 0 {
		after = ch.play.items[at-1].UID
	}
	ch.play.items = slices.Insert(ch.play.items, at, it)
	ch.broadcast("queue", struct {
		Item  playlistItem `json:"item"`
		After any          `json:"after"`
	}{it, after})
	ch.broadcast("setPlaylistMeta", ch.playlistMeta())
	if ch.play.current < 0 {
		ch.start(at)
	}
}

// onDelete handles delete <uid>.
func (c *conn) onDelete(payload json.RawMessage) {
	ch := c.ch
	var uid int
	if ch == nil || c.rank() < ch.perms.minRank("playlistdelete") || json.Unmarshal(payload, &uid) != nil {
		return
	}
	i := ch.indexOf(uid)
	if i < 0 {
		return
	}
	playing := uid == ch.play.current
	ch.remove(i)
	if playing {
		ch.play.current = -1
		if len(ch.play.items) > 0 {
			ch.start(i % len(ch.play.items))
		}
	}
}

// onPlayNext handles playNext: skip to the next item.
func (c *conn) onPlayNext() {
	if c.ch == nil || c.rank() < c.ch.perms.minRank("playlistjump") {
		return
	}
	c.ch.advance()
}

// MediaTick advances playback in every channel to the clock's now: items
// that ended give way to the next, the others get mediaUpdate. The server
// calls it every Options.MediaUpdateInterval; tests with a fake clock call
// it themselves.
func (s *Server) MediaTick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.channels {
		i := ch.indexOf(ch.play.current)
		if i < 0 {
			continue
		}
		if it := ch.play.items[i]; s.now().Sub(ch.play.started)-mediaLeadIn >= time.Duration(it.Media.Seconds)*time.Second {
			ch.advance()
			continue
		}
		ch.broadcast("mediaUpdate", ch.playhead())
	}
}

// mediaTicker calls MediaTick until the server closes.
func (s *Server) mediaTicker(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stopped:
			return
		case <-t.C:
			s.MediaTick()
		}
	}
}
