package web

import (
	"net/http"
	"time"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
)

// streamBuffer is how many events a stream may fall behind before the hub
// drops it; the browser's EventSource then reconnects by itself.
const streamBuffer = hub.Backlog

// heartbeat keeps idle streams open through proxies.
const heartbeat = 20 * time.Second

// serveEvents streams a channel's live events as server-sent events. They
// come from the hub (the daemon's own event flow), never from the database,
// so the stream keeps going while PostgreSQL is away.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	c, ok := s.channel(w, r)
	if !ok {
		return
	}
	rc := http.NewResponseController(w)
	// The server's write timeout is for pages; a stream lives until the
	// client, the hub or the shutdown ends it.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	sub := s.cfg.Hub.Subscribe(c.Name, streamBuffer)
	defer s.cfg.Hub.Unsubscribe(sub)
	if _, err := w.Write([]byte("retry: 2000\n: live\n\n")); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	moderator := s.moderatorOf(r, c.Name) != nil
	// A stream wakes when a line comes, lets more gather for flushDelay,
	// then takes them all and writes them at once: at 1 000 lines a second
	// that is ~20 wake-ups and writes a second per stream instead of a
	// thousand, and nobody notices 50 ms.
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	defer gather.Stop()
	var batch []*hub.Event
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-sub.Dropped():
			return
		case <-tick.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil || rc.Flush() != nil {
				return
			}
			continue
		case <-sub.Ready():
		}
		gather.Reset(flushDelay)
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-gather.C:
		}
		var ok bool
		if batch, ok = sub.Take(batch[:0]); !ok {
			return
		}
		for _, ev := range batch {
			if ev.Hidden && !moderator {
				continue
			}
			if _, err := w.Write(ev.Frame); err != nil {
				return
			}
		}
		clear(batch) // let the backlog's events go
		if rc.Flush() != nil {
			return
		}
	}
}

// flushDelay is how long a stream lets lines gather before it writes them.
const flushDelay = 50 * time.Millisecond
