package frame

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Parse decodes one websocket text frame. It never panics; a frame it cannot
// read yields an error wrapping ErrMalformed or ErrUnsupported. The returned
// packet does not alias frame, so the caller may reuse its read buffer.
func Parse(frame []byte) (Packet, error) {
	if len(frame) == 0 {
		return Packet{}, fmt.Errorf("%w: empty frame", ErrMalformed)
	}
	rest := frame[1:]
	switch frame[0] {
	case '0':
		return parseOpen(rest)
	case '1':
		return bare(TypeClose, rest)
	case '2':
		return Packet{Type: TypePing, Data: string(rest)}, nil
	case '3':
		return Packet{Type: TypePong, Data: string(rest)}, nil
	case '4':
		return parseSocketIO(rest)
	case '5':
		return bare(TypeUpgrade, rest)
	case '6':
		return bare(TypeNoop, rest)
	case 'b':
		return Packet{}, fmt.Errorf("%w: base64 binary frame", ErrUnsupported)
	}
	return Packet{}, fmt.Errorf("%w: unknown engine.io type %q", ErrMalformed, frame[0])
}

func bare(t Type, rest []byte) (Packet, error) {
	if len(rest) != 0 {
		return Packet{}, fmt.Errorf("%w: %s frame with %d bytes of data", ErrMalformed, t, len(rest))
	}
	return Packet{Type: t}, nil
}

func parseOpen(data []byte) (Packet, error) {
	data = trimJSONSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return Packet{}, fmt.Errorf("%w: open frame without a JSON object", ErrMalformed)
	}
	var o Open
	if err := json.Unmarshal(data, &o); err != nil {
		return Packet{}, fmt.Errorf("%w: open frame: %w", ErrMalformed, err)
	}
	switch {
	case o.SID == "":
		return Packet{}, fmt.Errorf("%w: open frame without sid", ErrMalformed)
	case o.PingInterval <= 0 || o.PingTimeout <= 0:
		return Packet{}, fmt.Errorf("%w: open frame with pingInterval %d, pingTimeout %d",
			ErrMalformed, o.PingInterval, o.PingTimeout)
	case o.MaxPayload < 0:
		return Packet{}, fmt.Errorf("%w: open frame with maxPayload %d", ErrMalformed, o.MaxPayload)
	}
	if o.Upgrades == nil {
		o.Upgrades = []string{}
	}
	return Packet{Type: TypeOpen, Open: &o}, nil
}

// parseSocketIO reads the Socket.IO packet inside an Engine.IO message:
// <type>[/namespace,][ackId][json].
func parseSocketIO(data []byte) (Packet, error) {
	if len(data) == 0 {
		return Packet{}, fmt.Errorf("%w: empty engine.io message", ErrMalformed)
	}
	kind, rest := data[0], data[1:]
	switch kind {
	case '3', '5', '6':
		return Packet{}, fmt.Errorf("%w: socket.io packet type %c (ack/binary)", ErrUnsupported, kind)
	case '0', '1', '2', '4':
	default:
		return Packet{}, fmt.Errorf("%w: unknown socket.io type %q", ErrMalformed, kind)
	}
	if len(rest) > 0 && rest[0] == '/' {
		nsp := rest
		if i := bytes.IndexByte(rest, ','); i >= 0 {
			nsp, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if string(nsp) != "/" {
			return Packet{}, fmt.Errorf("%w: namespace %q", ErrUnsupported, nsp)
		}
	}
	switch kind {
	case '0':
		return parseConnect(rest)
	case '1':
		return bare(TypeDisconnect, rest)
	case '4':
		return parseConnectError(rest)
	}
	if len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
		return Packet{}, fmt.Errorf("%w: event with an ack id", ErrUnsupported)
	}
	return parseEvent(rest)
}

func parseConnect(data []byte) (Packet, error) {
	data = trimJSONSpace(data)
	if len(data) == 0 {
		return Packet{Type: TypeConnect}, nil
	}
	if data[0] != '{' {
		return Packet{}, fmt.Errorf("%w: connect payload is not an object", ErrMalformed)
	}
	var body struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return Packet{}, fmt.Errorf("%w: connect payload: %w", ErrMalformed, err)
	}
	return Packet{Type: TypeConnect, SID: body.SID}, nil
}

// parseConnectError accepts the v5 object form {"message":...} and the older
// bare-string form.
func parseConnectError(data []byte) (Packet, error) {
	data = trimJSONSpace(data)
	if len(data) == 0 {
		return Packet{}, fmt.Errorf("%w: connect error without payload", ErrMalformed)
	}
	var msg string
	var err error
	switch data[0] {
	case '{':
		var body struct {
			Message string `json:"message"`
		}
		err = json.Unmarshal(data, &body)
		msg = body.Message
	case '"':
		err = json.Unmarshal(data, &msg)
	default:
		return Packet{}, fmt.Errorf("%w: connect error payload is neither object nor string", ErrMalformed)
	}
	if err != nil {
		return Packet{}, fmt.Errorf("%w: connect error payload: %w", ErrMalformed, err)
	}
	return Packet{Type: TypeConnectError, Message: msg}, nil
}
