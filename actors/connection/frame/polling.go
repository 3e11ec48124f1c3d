package frame

import (
	"bytes"
	"fmt"
	"strconv"
)

// ParsePollingOpen reads the body of the Engine.IO polling handshake
// (GET /socket.io/?transport=polling). EIO4 sends the bare open packet;
// EIO3 prefixes it with its length, as in `119:0{...}`.
func ParsePollingOpen(body []byte) (*Open, error) {
	if colon := bytes.IndexByte(body, ':'); colon > 0 && isDigits(body[:colon]) {
		n, err := strconv.Atoi(string(body[:colon]))
		if err != nil {
			return nil, fmt.Errorf("%w: polling length prefix: %w", ErrMalformed, err)
		}
		// The EIO3 length counts UTF-16 units, equal to bytes for the
		// ASCII open packet; anything else after it is further packets.
		packet := body[colon+1:]
		if n > len(packet) {
			return nil, fmt.Errorf("%w: polling length %d exceeds body of %d bytes", ErrMalformed, n, len(packet))
		}
		body = packet[:n]
	}
	p, err := Parse(body)
	if err != nil {
		return nil, err
	}
	if p.Type != TypeOpen {
		return nil, fmt.Errorf("%w: polling handshake starts with a %s packet", ErrMalformed, p.Type)
	}
	return p.Open, nil
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
