package sqlwriter

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/daz-bot/daz/messages"
)

// newRecord turns an event into its row. now stands in for a missing receipt
// time. Text the database would reject is repaired in the columns and the
// metadata, and the original bytes are kept in metadata (raw_b64 for the
// payload, columns_b64 for a column that did not come from the payload), so
// the row is always storable and nothing is lost. sanitized reports whether
// that happened.
func newRecord(ev *messages.Event, now time.Time) (rec record, sanitized bool) {
	received := ev.Received
	if received.IsZero() {
		received = now
	}
	rec.ReceivedAt = received
	rec.Timestamp = received
	serverTime, hasServerTime := ev.ServerTime()
	if hasServerTime {
		rec.Timestamp = serverTime
	}

	f := fieldsOf(ev.Body)
	var originals []columnOriginal
	fix := func(column, s string) string {
		safe, changed := safeText(s)
		if changed {
			originals = append(originals, columnOriginal{column, s})
		}
		return safe
	}
	rec.Channel = fix("channel", ev.Channel)
	rec.EventType = fix("event_type", ev.Name)
	if f.hasUsername {
		rec.Username, rec.HasUsername = fix("username", f.username), true
	}
	if f.hasMessage {
		rec.Message, rec.HasMessage = fix("message", f.message), true
	}
	if chat, ok := ev.Body.(*messages.ChatMsg); ok && chat.Time > 0 {
		rec.DedupKey, rec.HasDedupKey = chatDedupKey(chat), true
	}

	payload, payloadChanged := safeJSON(ev.Raw)
	m := metaBuilder{buf: make([]byte, 0, len(payload)+160)}
	m.raw("payload", payload)
	m.raw("seq", strconv.AppendUint(nil, ev.Seq, 10))
	m.str("received_at", received.UTC().Format(time.RFC3339Nano))
	if hasServerTime {
		m.raw("server_time_ms", strconv.AppendInt(nil, serverTime.UnixMilli(), 10))
	}
	switch b := ev.Body.(type) {
	case *messages.ChatMsg:
		m.str("msg_html", b.Msg)
		m.json("meta", b.Meta)
	case *messages.Pm:
		m.str("msg_html", b.Msg)
		m.json("meta", b.Meta)
		m.str("to", b.To)
	case *messages.RawEvent:
		m.raw("raw_fallback", []byte("true"))
	}
	if payloadChanged || len(originals) > 0 || m.repaired {
		m.raw("sanitized", []byte("true"))
	}
	if payloadChanged {
		m.str("raw_b64", base64.StdEncoding.EncodeToString(ev.Raw))
	}
	if len(originals) > 0 {
		m.beginObject("columns_b64")
		for _, o := range originals {
			m.str(o.column, base64.StdEncoding.EncodeToString([]byte(o.value)))
		}
		m.endObject()
	}
	rec.Metadata = m.finish()
	return rec, payloadChanged || len(originals) > 0 || m.repaired
}

type columnOriginal struct{ column, value string }

// chatDedupKey identifies a chat line by what the server stamped on it, so
// the same line replayed in a later join burst maps to the same key. The
// fields are length-prefixed so no two different lines hash alike by
// shifting bytes between fields. The "c1:" prefix names the scheme.
func chatDedupKey(c *messages.ChatMsg) string {
	h := sha256.New()
	var n [8]byte
	for _, field := range []string{c.Username, c.Msg} {
		binary.BigEndian.PutUint64(n[:], uint64(len(field)))
		h.Write(n[:])
		h.Write([]byte(field))
	}
	binary.BigEndian.PutUint64(n[:], uint64(c.Time))
	h.Write(n[:])
	sum := h.Sum(nil)
	return "c1:" + hex.EncodeToString(sum[:16])
}

// metaBuilder appends the metadata object field by field; it is faster than
// marshalling a struct with reflection for every event.
type metaBuilder struct {
	buf      []byte
	depth    []bool // per open object: has a field already
	repaired bool   // a nested string or JSON value needed repair
}

func (m *metaBuilder) key(k string) {
	if len(m.depth) == 0 {
		m.buf = append(m.buf, '{')
		m.depth = append(m.depth, false)
	}
	top := len(m.depth) - 1
	if m.depth[top] {
		m.buf = append(m.buf, ',')
	}
	m.depth[top] = true
	m.buf = strconv.AppendQuote(m.buf, k) // keys are fixed ASCII names
	m.buf = append(m.buf, ':')
}

// raw appends an already valid, JSONB-safe JSON value.
func (m *metaBuilder) raw(k string, v []byte) {
	m.key(k)
	m.buf = append(m.buf, v...)
}

// json appends a JSON value from the payload after making it safe; an empty
// value is left out.
func (m *metaBuilder) json(k string, v json.RawMessage) {
	if len(v) == 0 {
		return
	}
	safe, changed := safeJSON(v)
	m.repaired = m.repaired || changed
	m.raw(k, safe)
}

func (m *metaBuilder) str(k, v string) {
	safe, changed := safeText(v)
	m.repaired = m.repaired || changed
	quoted, _ := json.Marshal(safe) // marshalling a string cannot fail
	m.raw(k, quoted)
}

func (m *metaBuilder) beginObject(k string) {
	m.key(k)
	m.buf = append(m.buf, '{')
	m.depth = append(m.depth, false)
}

func (m *metaBuilder) endObject() {
	m.buf = append(m.buf, '}')
	m.depth = m.depth[:len(m.depth)-1]
}

func (m *metaBuilder) finish() []byte {
	if len(m.depth) == 0 {
		return []byte("{}")
	}
	for range m.depth {
		m.buf = append(m.buf, '}')
	}
	return m.buf
}
