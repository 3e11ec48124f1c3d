package sandbox

import (
	"bytes"
	"net/http"
	"strings"
)

// handlePage serves GET /. The page joins ?channel=<name>, defaulting to the
// first configured channel.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	channel := strings.ToLower(s.opts.Channels[0])
	if want := r.URL.Query().Get("channel"); validChannelName(want) {
		channel = strings.ToLower(want)
	}
	var buf bytes.Buffer
	if err := page(channel).Render(r.Context(), &buf); err != nil {
		s.log.Error("sandbox page render failed", "err", err)
		http.Error(w, "page render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; "+
		"style-src 'unsafe-inline'; connect-src 'self' ws: wss:")
	_, _ = w.Write(buf.Bytes())
}
