package sqlwriter

import (
	"time"

	"github.com/daz-bot/daz/messages"
)

// record is one future row of daz_core_chat_log, already made safe for
// PostgreSQL. It is what the writer buffers, spills and copies, so it holds
// only what the row needs and nothing that points back into the event.
type record struct {
	Timestamp   time.Time
	ReceivedAt  time.Time
	Channel     string
	EventType   string
	Username    string
	Message     string
	DedupKey    string
	HasUsername bool
	HasMessage  bool
	HasDedupKey bool
	Metadata    []byte // a JSONB-safe JSON object
}

// columns are the chat log columns a record fills, in copy order.
var columns = []string{"timestamp", "channel", "username", "message", "event_type", "metadata", "received_at", "dedup_key"}

// appendValues appends the record's column values in the order of columns.
func (r *record) appendValues(dst []any) []any {
	return append(dst, r.Timestamp, r.Channel, optional(r.Username, r.HasUsername),
		optional(r.Message, r.HasMessage), r.EventType, r.Metadata, r.ReceivedAt,
		optional(r.DedupKey, r.HasDedupKey))
}

// optional is the column value of a nullable text: nil stores NULL.
func optional(s string, ok bool) any {
	if !ok {
		return nil
	}
	return s
}

// size estimates the heap bytes a buffered record holds, for the metrics.
func (r *record) size() int {
	const fixed = 200 // struct, slice header and string headers
	return fixed + len(r.Channel) + len(r.EventType) + len(r.Username) + len(r.Message) +
		len(r.DedupKey) + len(r.Metadata)
}

// eventFields are the indexed columns an event fills besides its name.
type eventFields struct {
	username    string
	hasUsername bool
	message     string
	hasMessage  bool
}

// fieldsOf picks the user an event is about and its plain text, for the
// event types that have them.
func fieldsOf(body any) eventFields {
	user := func(name string) eventFields { return eventFields{username: name, hasUsername: true} }
	text := func(msg string) eventFields { return eventFields{message: msg, hasMessage: true} }
	switch b := body.(type) {
	case *messages.ChatMsg:
		return eventFields{username: b.Username, hasUsername: true, message: b.Text, hasMessage: true}
	case *messages.Pm:
		return eventFields{username: b.Username, hasUsername: true, message: b.Text, hasMessage: true}
	case *messages.AddUser:
		return user(b.Name)
	case *messages.UserLeave:
		return user(b.Name)
	case *messages.SetUserRank:
		return user(b.Name)
	case *messages.SetAFK:
		return user(b.Name)
	case *messages.SetUserMeta:
		return user(b.Name)
	case *messages.BanlistRemove:
		return user(b.Name)
	case *messages.Login:
		f := eventFields{username: b.Name, hasUsername: b.Name != ""}
		if b.Error != "" {
			f.message, f.hasMessage = b.Error, true
		}
		return f
	case *messages.Kick:
		return text(b.Reason)
	case *messages.ErrorMsg:
		return text(b.Msg)
	case *messages.NoFlood:
		return text(b.Msg)
	case *messages.QueueFail:
		return text(b.Msg)
	case *messages.Queue:
		return eventFields{username: b.Item.QueueBy, hasUsername: b.Item.QueueBy != "",
			message: b.Item.Media.Title, hasMessage: true}
	case *messages.ChangeMedia:
		return text(b.Title)
	}
	return eventFields{}
}
