package sandbox

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/daz-bot/daz/actors/connection/frame"
)

const (
	channelNamePattern = `^[\w-]{1,30}$`
	userNamePattern    = `^[\w-]{1,20}$`
)

var (
	channelNameRE = regexp.MustCompile(channelNamePattern)
	userNameRE    = regexp.MustCompile(userNamePattern)
)

// \w in Go's RE2 is ASCII-only, which is what CyTube accepts too.
func validChannelName(name string) bool { return channelNameRE.MatchString(name) }
func validUserName(name string) bool    { return userNameRE.MatchString(name) }

type socketServer struct {
	URL    string `json:"url"`
	Secure bool   `json:"secure"`
}

type socketConfig struct {
	Servers []socketServer `json:"servers"`
}

func socketConfigFor(url string) socketConfig {
	return socketConfig{Servers: []socketServer{{URL: url, Secure: false}}}
}

// handleSocketConfig serves GET /socketconfig/<channel>.json. Any valid name
// works, registered or not; an invalid one is a 404 with CyTube's JSON error.
func (s *Server) handleSocketConfig(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.faults.configGets++
	refuse, override := s.faults.refuse, s.faults.socketConfig
	s.mu.Unlock()
	if refuse {
		http.Error(w, "refused by a test", http.StatusInternalServerError)
		return
	}
	if override != nil {
		if status, body, ok := override(strings.TrimSuffix(r.PathValue("file"), ".json")); ok {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
			return
		}
	}
	name, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	if !ok || !validChannelName(name) {
		if !ok {
			name = r.PathValue("file")
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"error": `Channel "` + name + `" does not exist.`})
		return
	}
	// Answer with the address the client already reached us on, so discovery
	// works whatever the bind address.
	url := s.URL()
	if r.Host != "" {
		url = "http://" + r.Host
	}
	writeJSON(w, http.StatusOK, socketConfigFor(url))
}

// Engine.IO error codes as engine.io reports them in 400 bodies.
type engineError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

var (
	errTransportUnknown   = engineError{Code: 0, Message: "Transport unknown"}
	errSessionUnknown     = engineError{Code: 1, Message: "Session ID unknown"}
	errUnsupportedVersion = engineError{Code: 5, Message: "Unsupported protocol version"}
)

// handleEngineIO serves /socket.io/. The websocket transport is the real one;
// polling only answers the handshake (enough for discovery probes), since no
// CyTube client daz cares about stays on polling.
func (s *Server) handleEngineIO(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		writeJSON(w, http.StatusBadRequest, errUnsupportedVersion)
		return
	}
	if q.Get("sid") != "" {
		writeJSON(w, http.StatusBadRequest, errSessionUnknown)
		return
	}
	switch q.Get("transport") {
	case "polling":
		if r.Method != http.MethodGet {
			writeJSON(w, http.StatusBadRequest, errSessionUnknown)
			return
		}
		body := openFrame(s.openPacket(newSID(), []string{"websocket"}))
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		_, _ = w.Write([]byte(body))
	case "websocket":
		s.mu.Lock()
		refuse := s.faults.refuse || s.faults.refuseWS
		s.mu.Unlock()
		if refuse {
			http.Error(w, "refused by a test", http.StatusInternalServerError)
			return
		}
		if !websocketUpgrade(r) {
			writeJSON(w, http.StatusBadRequest, errTransportUnknown)
			return
		}
		ws, err := s.upgrader.Upgrade(w, r, nil)
		if err != nil {
			s.log.Warn("websocket upgrade failed", "err", err, "remote", r.RemoteAddr)
			return
		}
		s.accept(ws, r.RemoteAddr)
	default:
		writeJSON(w, http.StatusBadRequest, errTransportUnknown)
	}
}

func websocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func (s *Server) openPacket(sid string, upgrades []string) frame.Open {
	return frame.Open{
		SID:          sid,
		Upgrades:     upgrades,
		PingInterval: s.opts.PingInterval.Milliseconds(),
		PingTimeout:  s.opts.PingTimeout.Milliseconds(),
		MaxPayload:   maxPayload,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(mustJSON(v))
}
