package frame

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Fixed client frames.
const (
	FrameConnect    = "40" // connect the default namespace
	FrameDisconnect = "41" // leave the namespace before closing the socket
	FramePong       = "3"  // answer to the server's "2"
)

// EncodeEvent builds `42["name",payload]`, or `42["name"]` when payload is
// nil (or an empty json.RawMessage). Text is written as raw UTF-8, without
// the \u003c-style escaping encoding/json applies by default, so the frame
// matches what the CyTube web client sends.
func EncodeEvent(name string, payload any) ([]byte, error) {
	if name == "" {
		return nil, errors.New("frame: encode event: empty name")
	}
	if raw, ok := payload.(json.RawMessage); ok && len(raw) == 0 {
		payload = nil
	}
	if payload == nil {
		return EncodePacket(Packet{Type: TypeEvent, Name: name})
	}
	arg, err := marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("frame: encode %s payload: %w", name, err)
	}
	return EncodePacket(Packet{Type: TypeEvent, Name: name, Args: []json.RawMessage{arg}})
}

// EncodePacket is the inverse of Parse. Event arguments are written verbatim
// after a validity check.
func EncodePacket(p Packet) ([]byte, error) {
	switch p.Type {
	case TypeOpen:
		if p.Open == nil {
			return nil, errors.New("frame: encode open: no handshake")
		}
		o := *p.Open
		if o.Upgrades == nil {
			o.Upgrades = []string{}
		}
		return prefixed("0", o)
	case TypeClose:
		return []byte("1"), nil
	case TypePing:
		return []byte("2" + p.Data), nil
	case TypePong:
		return []byte("3" + p.Data), nil
	case TypeUpgrade:
		return []byte("5"), nil
	case TypeNoop:
		return []byte("6"), nil
	case TypeConnect:
		if p.SID == "" {
			return []byte(FrameConnect), nil
		}
		return prefixed("40", struct {
			SID string `json:"sid"`
		}{p.SID})
	case TypeDisconnect:
		return []byte(FrameDisconnect), nil
	case TypeConnectError:
		return prefixed("44", struct {
			Message string `json:"message"`
		}{p.Message})
	case TypeEvent:
		return encodeEventPacket(p)
	}
	return nil, fmt.Errorf("frame: encode: unknown packet type %d", int(p.Type))
}

func encodeEventPacket(p Packet) ([]byte, error) {
	name, err := marshal(p.Name)
	if err != nil {
		return nil, fmt.Errorf("frame: encode event name: %w", err)
	}
	size := 4 + len(name)
	for _, a := range p.Args {
		size += 1 + len(a)
	}
	out := make([]byte, 0, size)
	out = append(out, "42["...)
	out = append(out, name...)
	for i, a := range p.Args {
		if !json.Valid(a) {
			return nil, fmt.Errorf("frame: encode %s: argument %d is not valid JSON", p.Name, i)
		}
		out = append(out, ',')
		out = append(out, a...)
	}
	return append(out, ']'), nil
}

func prefixed(prefix string, v any) ([]byte, error) {
	body, err := marshal(v)
	if err != nil {
		return nil, fmt.Errorf("frame: encode %s: %w", prefix, err)
	}
	return append([]byte(prefix), body...), nil
}

// marshal is json.Marshal without HTML escaping and without the newline
// json.Encoder appends.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
