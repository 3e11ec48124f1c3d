package frame

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
	"github.com/daz-bot/daz/messages"
)

// FuzzDecodeFrame runs the whole receive path on arbitrary frames, seeded
// with every frame of the recordings. Properties:
//   - nothing panics; failures are ErrMalformed/ErrUnsupported;
//   - EncodePacket inverts Parse;
//   - events agree with encoding/json, in both directions;
//   - decoding an event never loses the payload bytes.
func FuzzDecodeFrame(f *testing.F) {
	seen := map[string]bool{}
	for _, dir := range []string{transcript.DirIn, transcript.DirOut} {
		for _, r := range recordedFrames(f, dir) {
			if !seen[r.frame] {
				seen[r.frame] = true
				f.Add([]byte(r.frame))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Parse(%q): unclassified error %v", data, err)
			}
			if !reflect.DeepEqual(p, Packet{}) {
				t.Fatalf("Parse(%q) returned %#v with its error", data, p)
			}
			checkJSONAgreesItIsNoEvent(t, data)
			return
		}
		checkRoundTrip(t, data, p)
		if p.Type == TypeEvent {
			checkEventAgreesWithJSON(t, data, p)
			checkEventDecode(t, p)
		}
		checkPlainText(t, string(data))
	})
}

func checkRoundTrip(t *testing.T, data []byte, p Packet) {
	t.Helper()
	enc, err := EncodePacket(p)
	if err != nil {
		t.Fatalf("EncodePacket(Parse(%q)): %v", data, err)
	}
	back, err := Parse(enc)
	if err != nil {
		t.Fatalf("Parse(EncodePacket(Parse(%q))) = Parse(%q): %v", data, enc, err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Fatalf("round trip of %q via %q:\n got %#v\nwant %#v", data, enc, back, p)
	}
}

// eventJSON is the reference reading of a "42..." frame by encoding/json.
func eventJSON(data []byte) (name string, args []json.RawMessage, ok bool) {
	if !bytes.HasPrefix(data, []byte("42")) {
		return "", nil, false
	}
	body := data[2:]
	if len(body) > 0 && (body[0] == '/' || (body[0] >= '0' && body[0] <= '9')) {
		return "", nil, false // namespace or ack id: rejected on purpose
	}
	var all []json.RawMessage
	if json.Unmarshal(body, &all) != nil || len(all) == 0 || json.Unmarshal(all[0], &name) != nil {
		return "", nil, false
	}
	if len(bytes.TrimLeft(all[0], " \t\r\n")) == 0 || bytes.TrimLeft(all[0], " \t\r\n")[0] != '"' {
		return "", nil, false
	}
	return name, all[1:], true
}

func checkEventAgreesWithJSON(t *testing.T, data []byte, p Packet) {
	t.Helper()
	name, args, ok := eventJSON(data)
	if !ok {
		t.Fatalf("Parse accepted %q as event %q but encoding/json rejects it", data, p.Name)
	}
	if name != p.Name || len(args) != len(p.Args) {
		t.Fatalf("%q: Parse saw %q/%d args, encoding/json %q/%d", data, p.Name, len(p.Args), name, len(args))
	}
	for i := range args {
		if !bytes.Equal(args[i], p.Args[i]) {
			t.Fatalf("%q: arg %d is %q, encoding/json has %q", data, i, p.Args[i], args[i])
		}
	}
}

func checkJSONAgreesItIsNoEvent(t *testing.T, data []byte) {
	t.Helper()
	if name, _, ok := eventJSON(data); ok {
		t.Fatalf("Parse rejected %q but encoding/json reads event %q", data, name)
	}
}

func checkEventDecode(t *testing.T, p Packet) {
	t.Helper()
	ev, err := EventFromPacket("c", 1, time.Time{}, &p)
	if ev == nil {
		t.Fatalf("no event for %q (err %v)", p.Name, err)
	}
	if err != nil && !errors.Is(err, ErrPayloadShape) {
		t.Fatalf("%q: unclassified decode error %v", p.Name, err)
	}
	if len(p.Args) <= 1 && !bytes.Equal(ev.Raw, p.Payload()) {
		t.Fatalf("%q: Raw %q differs from payload %q", p.Name, ev.Raw, p.Payload())
	}
	raw, isRaw := ev.Body.(*messages.RawEvent)
	if err != nil && (!isRaw || !bytes.Equal(raw.Payload, ev.Raw)) {
		t.Fatalf("%q: decode error %v but body %#v", p.Name, err, ev.Body)
	}
	switch b := ev.Body.(type) {
	case *messages.ChatMsg:
		if b.Text != PlainText(b.Msg) {
			t.Fatalf("chat text %q for %q", b.Text, b.Msg)
		}
	case *messages.Pm:
		if b.Text != PlainText(b.Msg) {
			t.Fatalf("pm text %q for %q", b.Text, b.Msg)
		}
	}
}

func checkPlainText(t *testing.T, s string) {
	t.Helper()
	got := PlainText(s)
	if !strings.ContainsAny(s, "<&") && got != s {
		t.Fatalf("PlainText(%q) = %q changed text without markup", s, got)
	}
	if len(got) > len(s)+len(s)/2+4 {
		t.Fatalf("PlainText(%q) grew to %q", s, got)
	}
}
