package frame

import (
	"encoding/json"
	"fmt"

	"github.com/daz-bot/daz/messages"
)

// decodeDelete accepts both forms CyTube uses: {"uid":N} as the broadcast
// and a bare N.
func decodeDelete(p json.RawMessage) (*messages.Delete, error) {
	if firstByte(p) == '{' {
		return object[messages.Delete](p)
	}
	uid, err := value[int64](p)
	if err != nil {
		return nil, err
	}
	return &messages.Delete{UID: uid}, nil
}

// decodeMotd accepts the bare HTML string CyTube 3.x broadcasts and the
// {"motd":...} object form the setMotd request uses.
func decodeMotd(p json.RawMessage) (*messages.SetMotd, error) {
	switch firstByte(p) {
	case '"':
		html, err := value[string](p)
		if err != nil {
			return nil, err
		}
		return &messages.SetMotd{HTML: html}, nil
	case '{':
		var body struct {
			Motd *string `json:"motd"`
		}
		if err := json.Unmarshal(p, &body); err != nil {
			return nil, err
		}
		if body.Motd == nil {
			return nil, fmt.Errorf("motd object without a motd string")
		}
		return &messages.SetMotd{HTML: *body.Motd}, nil
	}
	return nil, fmt.Errorf("payload starting with %q, want a string", firstByte(p))
}
