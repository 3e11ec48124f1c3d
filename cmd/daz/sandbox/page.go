package sandbox

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

// pageHTML is the sandbox's chat page: plain HTML and JavaScript that speak
// the same Engine.IO v4 / Socket.IO protocol as daz, with no external assets.
//
//go:embed page.html
var pageHTML string

func parsePage() (*template.Template, error) {
	tmpl, err := template.New("page").Parse(pageHTML)
	if err != nil {
		return nil, fmt.Errorf("sandbox: parse page.html: %w", err)
	}
	return tmpl, nil
}

type pageData struct {
	Channel string
}

// handlePage serves GET /. The page joins ?channel=<name>, defaulting to the
// first configured channel.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	channel := strings.ToLower(s.opts.Channels[0])
	if want := r.URL.Query().Get("channel"); validChannelName(want) {
		channel = strings.ToLower(want)
	}
	var buf bytes.Buffer
	if err := s.page.Execute(&buf, pageData{Channel: channel}); err != nil {
		s.log.Error("sandbox page render failed", "err", err)
		http.Error(w, "page render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; "+
		"style-src 'unsafe-inline'; connect-src 'self' ws: wss:")
	_, _ = w.Write(buf.Bytes())
}
