package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
)

// streamBuffer is how many events a stream may fall behind before the hub
// drops it; the browser's EventSource then reconnects by itself.
const streamBuffer = 256

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
		case ev := <-sub.Events():
			if ev.Hidden && !moderator {
				continue
			}
			if writeEvent(w, ev) != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

func writeEvent(w http.ResponseWriter, ev hub.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, len(data)+64)
	buf = append(buf, "id: "...)
	buf = strconv.AppendUint(buf, ev.Seq, 10)
	buf = append(buf, "\nevent: "...)
	buf = append(buf, ev.Kind...)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	_, err = w.Write(buf)
	return err
}
