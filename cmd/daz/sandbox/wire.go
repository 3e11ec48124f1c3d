package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/daz-bot/daz/actors/connection/frame"
)

// The sandbox speaks the daemon's own codec (actors/connection/frame), so the
// server and the client cannot drift apart on the wire format. This file only
// adds the server-side shorthands.

// mustJSON marshals like JSON.stringify: <, > and & stay literal, because the
// chat HTML CyTube sends travels unescaped inside the JSON string. It is for
// HTTP bodies; frames go through the frame package.
func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own payload types reach here; failing is a programming error.
		panic(fmt.Sprintf("sandbox: marshal %T: %v", v, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// eventFrame is the wire text of a Socket.IO event: 42["name",payload], or
// 42["name"] when there is no payload.
func eventFrame(name string, payload any) string {
	f, err := frame.EncodeEvent(name, payload)
	if err != nil {
		panic(fmt.Sprintf("sandbox: encode %s: %v", name, err)) // our own payload types only
	}
	return string(f)
}

func openFrame(o frame.Open) string {
	f, err := frame.EncodePacket(frame.Packet{Type: frame.TypeOpen, Open: &o})
	if err != nil {
		panic(fmt.Sprintf("sandbox: encode open: %v", err))
	}
	return string(f)
}

func connectErrorFrame(msg string) string {
	f, err := frame.EncodePacket(frame.Packet{Type: frame.TypeConnectError, Message: msg})
	if err != nil {
		panic(fmt.Sprintf("sandbox: encode connect error: %v", err))
	}
	return string(f)
}

// newSID makes a 20-character id shaped like the ones engine.io hands out.
func newSID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// incomingEvent is a decoded 42[...] frame from a client.
type incomingEvent struct {
	name    string
	payload json.RawMessage // nil when the client sent no payload
}

// jsTypeOf names a JSON value's type the way CyTube's type checks report it.
func jsTypeOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "undefined"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}
