package messages

import (
	"encoding/json"
	"errors"
)

// ErrNotOnline answers a send (SendResult.Err) while the channel's
// connection is not online; the outbound queue keeps the message for later.
var ErrNotOnline = errors.New("connection not online")

// SendChat asks for a chat line on a channel (topic cytube.send.chat).
// Outbound pacing and splitting happen before the connection encodes it.
type SendChat struct {
	Channel string
	Msg     string
	Meta    json.RawMessage // nil encodes as {}
}

// SendPM asks for a private message (topic cytube.send.pm).
type SendPM struct {
	Channel string
	To      string
	Msg     string
	Meta    json.RawMessage
}

// SendEvent emits an arbitrary client event such as a moderation command
// (topic cytube.send.event), e.g. Name "requestBanlist" with no Payload.
type SendEvent struct {
	Channel string
	Name    string
	Payload any // nil: the event is sent without a payload
}

// SendResult tells the sender of a cytube.send.* message whether the frame
// was written to the socket; sent back to the requester when there is one.
type SendResult struct {
	Channel string
	Err     error
}
