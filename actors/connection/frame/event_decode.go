package frame

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/daz-bot/daz/messages"
)

// ErrPayloadShape is matched (errors.Is) by every *DecodeError.
var ErrPayloadShape = errors.New("event payload has an unexpected shape")

// DecodeError says a known event arrived with a payload that does not fit
// its type. The event is still delivered, as a *messages.RawEvent, so the
// caller should count/log the error and carry on.
type DecodeError struct {
	Name string
	Err  error
}

func (e *DecodeError) Error() string { return fmt.Sprintf("decode %s payload: %v", e.Name, e.Err) }

// Unwrap exposes the underlying encoding/json error, if any.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrPayloadShape) true.
func (e *DecodeError) Is(target error) bool { return target == ErrPayloadShape }

// DecodeEvent builds the typed event for one "42[name,payload]" frame.
// payload is nil when the frame had no argument; the event keeps it as Raw
// (not copied), exactly as received.
//
// The returned event is never nil. Unknown names get a *messages.RawEvent
// body and no error. A known name whose payload does not fit also gets a
// *messages.RawEvent body, together with a *DecodeError.
func DecodeEvent(channel string, seq uint64, received time.Time, name string, payload json.RawMessage) (*messages.Event, error) {
	ev := &messages.Event{Channel: channel, Name: name, Seq: seq, Received: received, Raw: payload}
	body, known, err := decodeBody(name, payload)
	switch {
	case err != nil:
		ev.Body = &messages.RawEvent{Name: name, Payload: payload}
		return ev, &DecodeError{Name: name, Err: err}
	case !known:
		ev.Body = &messages.RawEvent{Name: name, Payload: payload}
	default:
		ev.Body = body
	}
	return ev, nil
}

// EventFromPacket is DecodeEvent for a parsed TypeEvent packet. CyTube sends
// at most one argument; should more arrive, Raw holds all of them as a JSON
// array so nothing is lost, and a *DecodeError reports it.
func EventFromPacket(channel string, seq uint64, received time.Time, p *Packet) (*messages.Event, error) {
	if p.Type != TypeEvent {
		return nil, fmt.Errorf("frame: %s packet is not an event", p.Type)
	}
	if len(p.Args) <= 1 {
		return DecodeEvent(channel, seq, received, p.Name, p.Payload())
	}
	all := json.RawMessage{'['}
	for i, arg := range p.Args {
		if i > 0 {
			all = append(all, ',')
		}
		all = append(all, arg...)
	}
	all = append(all, ']')
	ev := &messages.Event{
		Channel: channel, Name: p.Name, Seq: seq, Received: received, Raw: all,
		Body: &messages.RawEvent{Name: p.Name, Payload: all},
	}
	return ev, &DecodeError{Name: p.Name, Err: fmt.Errorf("%d arguments, expected at most 1", len(p.Args))}
}
