package frame

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/daz-bot/daz/actors/internal/jsontext"
)

// parseEvent reads `["name"(,arg)*]`. It avoids a generic []json.RawMessage
// unmarshal for the common single-argument case because that costs two
// passes plus a copy over payloads as big as the 733 KB playlist; one
// validating pass (jsontext.Scan, the writer's validator) and one copy
// suffice. Several arguments fall back to encoding/json.
func parseEvent(data []byte) (Packet, error) {
	data = trimJSONSpace(data)
	if len(data) < 2 || data[0] != '[' || data[len(data)-1] != ']' {
		return Packet{}, fmt.Errorf("%w: event payload is not a JSON array", ErrMalformed)
	}
	inner := trimJSONSpace(data[1 : len(data)-1])
	if len(inner) == 0 || inner[0] != '"' {
		return Packet{}, fmt.Errorf("%w: event does not start with a name string", ErrMalformed)
	}
	end := stringTokenEnd(inner)
	if end < 0 {
		return Packet{}, fmt.Errorf("%w: unterminated event name", ErrMalformed)
	}
	name, err := decodeName(inner[:end])
	if err != nil {
		return Packet{}, err
	}
	after := trimJSONSpace(inner[end:])
	if len(after) == 0 {
		return Packet{Type: TypeEvent, Name: name}, nil
	}
	if after[0] != ',' {
		return Packet{}, fmt.Errorf("%w: event %q: expected ',' after the name", ErrMalformed, name)
	}
	args := trimJSONSpace(after[1:])
	if len(args) == 0 {
		return Packet{}, fmt.Errorf("%w: event %q: trailing comma", ErrMalformed, name)
	}
	if valid, _ := jsontext.Scan(args); valid {
		return Packet{Type: TypeEvent, Name: name, Args: []json.RawMessage{bytes.Clone(args)}}, nil
	}
	var many []json.RawMessage
	if err := json.Unmarshal(data, &many); err != nil {
		return Packet{}, fmt.Errorf("%w: event %q: %w", ErrMalformed, name, err)
	}
	return Packet{Type: TypeEvent, Name: name, Args: many[1:]}, nil
}

// stringTokenEnd returns the index just past the JSON string starting at
// s[0], or -1 if it is not terminated.
func stringTokenEnd(s []byte) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// decodeName turns a JSON string token into a Go string; plain printable
// ASCII, which every CyTube event name is, skips encoding/json.
func decodeName(tok []byte) (string, error) {
	plain := true
	for _, c := range tok[1 : len(tok)-1] {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(tok[1 : len(tok)-1]), nil
	}
	var name string
	if err := json.Unmarshal(tok, &name); err != nil {
		return "", fmt.Errorf("%w: event name: %w", ErrMalformed, err)
	}
	return name, nil
}

func trimJSONSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
