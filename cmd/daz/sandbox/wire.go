package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Engine.IO v4 packet types (first byte of a websocket text frame) and the
// Socket.IO packet types carried in an Engine.IO message.
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioUpgrade = '5'
	eioNoop    = '6'

	sioConnect    = '0'
	sioDisconnect = '1'
	sioEvent      = '2'
)

// mustJSON marshals like JSON.stringify: <, > and & stay literal, because the
// chat HTML CyTube sends travels unescaped inside the JSON string.
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
	if payload == nil {
		return "42" + string(mustJSON([]any{name}))
	}
	return "42" + string(mustJSON([]any{name, payload}))
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

var errNotEvent = errors.New("not a socket.io event array")

// parseEvent decodes the body of a Socket.IO EVENT packet (after the '2'): an
// optional ack id, then a JSON array whose first element is the event name.
func parseEvent(body string) (incomingEvent, error) {
	body = strings.TrimLeft(body, "0123456789")
	var parts []json.RawMessage
	if err := json.Unmarshal([]byte(body), &parts); err != nil {
		return incomingEvent{}, fmt.Errorf("%w: %w", errNotEvent, err)
	}
	if len(parts) == 0 {
		return incomingEvent{}, errNotEvent
	}
	var name string
	if err := json.Unmarshal(parts[0], &name); err != nil {
		return incomingEvent{}, fmt.Errorf("%w: event name is not a string", errNotEvent)
	}
	ev := incomingEvent{name: name}
	if len(parts) > 1 {
		ev.payload = parts[1]
	}
	return ev, nil
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
