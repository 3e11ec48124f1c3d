// Package frame is the CyTube wire codec: Engine.IO v4 / Socket.IO v5 text
// frames, typed decoding of CyTube events, plain text of chat HTML, client
// frame encoders and socketconfig discovery. Everything here is a pure
// function over bytes; the connection actor owns all I/O.
package frame

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Type is the kind of a parsed text frame, Engine.IO and Socket.IO levels
// flattened into one enum because CyTube only uses the default namespace.
type Type int

// Frame types. The Engine.IO "message" type (4) never appears on its own: it
// is always one of the Socket.IO types below.
const (
	TypeOpen         Type = iota + 1 // "0{...}" handshake
	TypeClose                        // "1"
	TypePing                         // "2" (server heartbeat in EIO4)
	TypePong                         // "3"
	TypeUpgrade                      // "5"
	TypeNoop                         // "6"
	TypeConnect                      // "40" / "40{"sid":...}"
	TypeDisconnect                   // "41"
	TypeEvent                        // "42[name,args...]"
	TypeConnectError                 // "44{"message":...}"
)

func (t Type) String() string {
	switch t {
	case TypeOpen:
		return "open"
	case TypeClose:
		return "close"
	case TypePing:
		return "ping"
	case TypePong:
		return "pong"
	case TypeUpgrade:
		return "upgrade"
	case TypeNoop:
		return "noop"
	case TypeConnect:
		return "connect"
	case TypeDisconnect:
		return "disconnect"
	case TypeEvent:
		return "event"
	case TypeConnectError:
		return "connect_error"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// ErrMalformed marks a frame that is not valid Engine.IO/Socket.IO text.
var ErrMalformed = errors.New("malformed frame")

// ErrUnsupported marks a well-formed frame daz does not speak: binary
// attachments, acknowledgements and namespaces other than "/".
var ErrUnsupported = errors.New("unsupported frame")

// Open is the Engine.IO handshake. Durations are in milliseconds on the wire.
type Open struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

// PingIntervalDuration is how often the server promises to ping.
func (o *Open) PingIntervalDuration() time.Duration {
	return time.Duration(o.PingInterval) * time.Millisecond
}

// PingTimeoutDuration is how long the server waits for our pong.
func (o *Open) PingTimeoutDuration() time.Duration {
	return time.Duration(o.PingTimeout) * time.Millisecond
}

// Packet is one parsed text frame. Only the fields of its Type are set.
type Packet struct {
	Type Type

	// Open is the handshake of TypeOpen.
	Open *Open
	// Data is the optional payload of ping/pong ("probe" during upgrades).
	Data string
	// SID is the Socket.IO session id of a TypeConnect reply; it differs
	// from the Engine.IO sid and is empty for the client's bare "40".
	SID string
	// Message is the reason of TypeConnectError, e.g. "Rate limit exceeded".
	Message string
	// Name and Args are the event name and its arguments, verbatim. CyTube
	// sends at most one argument; see Payload.
	Name string
	Args []json.RawMessage
}

// Payload is the event's first argument, or nil for "42["name"]".
func (p *Packet) Payload() json.RawMessage {
	if len(p.Args) == 0 {
		return nil
	}
	return p.Args[0]
}
