package frame

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
)

// The encoders must reproduce, byte for byte, every event frame the
// recording client sent to the real server.
func TestEncodeMatchesRecordedOutFrames(t *testing.T) {
	typed := map[string]int{}
	perFile := map[string]map[string]bool{}
	for _, r := range recordedFrames(t, transcript.DirOut) {
		if !strings.HasPrefix(r.frame, "42") {
			continue
		}
		p, err := Parse([]byte(r.frame))
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		got, helper, err := encodeLikeTheBot(p)
		if err != nil {
			t.Errorf("%s: encode: %v", r, err)
			continue
		}
		if string(got) != r.frame {
			t.Errorf("%s: %s\n got  %s\n want %s", r, helper, got, r.frame)
			continue
		}
		typed[helper]++
		if perFile[r.file] == nil {
			perFile[r.file] = map[string]bool{}
		}
		perFile[r.file][helper] = true
	}
	for _, helper := range []string{"EncodeChatMsg", "EncodePM", "EncodeJoinChannel", "EncodeJoinChannel+pw", "EncodeLogin", "EncodeLogin guest", "EncodeEvent nil", "EncodeEvent string"} {
		if typed[helper] == 0 {
			t.Errorf("%s never matched a recorded frame (matches: %v)", helper, typed)
		}
	}
	for file, helpers := range map[string][]string{
		"login_ok":          {"EncodeLogin", "EncodeChatMsg", "EncodePM"},
		"chat_and_presence": {"EncodeJoinChannel", "EncodeLogin", "EncodeChatMsg", "EncodePM"},
		"channel_password":  {"EncodeJoinChannel+pw", "EncodeEvent string"},
		"kick_ban":          {"EncodeEvent nil"},
	} {
		for _, h := range helpers {
			if !perFile[file][h] {
				t.Errorf("%s.jsonl: no frame checked with %s", file, h)
			}
		}
	}
}

// encodeLikeTheBot rebuilds a recorded client frame from Go values through
// the helper the bot would use, and names that helper.
func encodeLikeTheBot(p Packet) ([]byte, string, error) {
	payload := p.Payload()
	var fields struct {
		To, Msg, Name, PW *string
		Meta              json.RawMessage
	}
	strict := json.NewDecoder(strings.NewReader(string(payload)))
	typedOK := len(payload) > 0 && payload[0] == '{' && strict.Decode(&fields) == nil
	switch {
	case p.Name == "chatMsg" && typedOK && fields.Msg != nil && string(fields.Meta) == "{}":
		b, err := EncodeChatMsg(*fields.Msg, nil)
		return b, "EncodeChatMsg", err
	case p.Name == "pm" && typedOK && fields.To != nil && string(fields.Meta) == "{}":
		b, err := EncodePM(*fields.To, *fields.Msg, nil)
		return b, "EncodePM", err
	case (p.Name == "joinChannel" || p.Name == "login") && typedOK && fields.Name != nil:
		encode, helper := EncodeJoinChannel, "EncodeJoinChannel"
		if p.Name == "login" {
			encode, helper = EncodeLogin, "EncodeLogin"
		}
		pw := ""
		switch {
		case fields.PW != nil:
			pw = *fields.PW
			if p.Name == "joinChannel" {
				helper += "+pw"
			}
		case p.Name == "login":
			helper += " guest"
		}
		b, err := encode(*fields.Name, pw)
		return b, helper, err
	case len(payload) == 0:
		b, err := EncodeEvent(p.Name, nil)
		return b, "EncodeEvent nil", err
	}
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return nil, "", err
	}
	if _, ok := v.(map[string]any); ok {
		// A Go map would reorder the keys; moderation commands are built
		// as raw JSON or structs by their callers.
		b, err := EncodeEvent(p.Name, payload)
		return b, "EncodeEvent raw", err
	}
	helper := "EncodeEvent value"
	if _, ok := v.(string); ok {
		helper = "EncodeEvent string"
	}
	b, err := EncodeEvent(p.Name, v)
	return b, helper, err
}

func TestEncodeEvent(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		payload any
		want    string
	}{
		{"no payload", "requestBanlist", nil, `42["requestBanlist"]`},
		{"empty raw payload", "requestChannelRanks", json.RawMessage(nil), `42["requestChannelRanks"]`},
		{"bare string", "channelPassword", "pw", `42["channelPassword","pw"]`},
		{"bare number", "delete", 2, `42["delete",2]`},
		{"html and emoji stay raw", "chatMsg", map[string]string{"msg": "<b>&'🎉"}, `42["chatMsg",{"msg":"<b>&'🎉"}]`},
		{"raw payload verbatim", "unban", json.RawMessage(`{"id":2,"name":"alice"}`), `42["unban",{"id":2,"name":"alice"}]`},
		{"control chars escaped", "x", "a\tb\x07", `42["x","a\tb\u0007"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeEvent(tt.event, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestEncodeEventErrors(t *testing.T) {
	if _, err := EncodeEvent("", nil); err == nil {
		t.Error("empty name accepted")
	}
	if _, err := EncodeEvent("x", make(chan int)); err == nil {
		t.Error("unencodable payload accepted")
	}
	if _, err := EncodeEvent("x", json.RawMessage(`{"a":`)); err == nil {
		t.Error("invalid raw payload accepted")
	}
	if _, err := EncodeChatMsg("hi", json.RawMessage(`{bad`)); err == nil {
		t.Error("invalid meta accepted")
	}
	if _, err := EncodePacket(Packet{Type: TypeOpen}); err == nil {
		t.Error("open without handshake accepted")
	}
	if _, err := EncodePacket(Packet{Type: TypeEvent, Name: "x", Args: []json.RawMessage{json.RawMessage(`nope`)}}); err == nil {
		t.Error("invalid argument accepted")
	}
	if _, err := EncodePacket(Packet{}); err == nil {
		t.Error("zero packet accepted")
	}
}

func TestEncodeHelpersWithMeta(t *testing.T) {
	got, err := EncodeChatMsg("waves", json.RawMessage(`{"action":true}`))
	if err != nil || string(got) != `42["chatMsg",{"msg":"waves","meta":{"action":true}}]` {
		t.Fatalf("EncodeChatMsg = %s, %v", got, err)
	}
	got, err = EncodePM("alice", "a & b", nil)
	if err != nil || string(got) != `42["pm",{"to":"alice","msg":"a & b","meta":{}}]` {
		t.Fatalf("EncodePM = %s, %v", got, err)
	}
}

// EncodePacket must invert Parse for every packet kind, so fake servers in
// other packages' tests can speak the real wire format.
func TestEncodePacketRoundTrip(t *testing.T) {
	packets := []Packet{
		{Type: TypeOpen, Open: &Open{SID: "s", Upgrades: []string{}, PingInterval: 25000, PingTimeout: 120000, MaxPayload: 1048576}},
		{Type: TypeClose}, {Type: TypePing}, {Type: TypePing, Data: "probe"}, {Type: TypePong}, {Type: TypeUpgrade}, {Type: TypeNoop},
		{Type: TypeConnect}, {Type: TypeConnect, SID: "hr6b"}, {Type: TypeDisconnect},
		{Type: TypeConnectError, Message: "Rate limit exceeded"},
		{Type: TypeEvent, Name: "cancelNeedPassword"},
		{Type: TypeEvent, Name: "chatMsg", Args: []json.RawMessage{json.RawMessage(`{"msg":"<a>"}`)}},
		{Type: TypeEvent, Name: "x", Args: []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`"2"`)}},
	}
	for _, p := range packets {
		b, err := EncodePacket(p)
		if err != nil {
			t.Fatalf("%s: %v", p.Type, err)
		}
		back, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(%s): %v", b, err)
		}
		if !reflect.DeepEqual(back, p) {
			t.Fatalf("%s round trip:\n got %#v\nwant %#v", b, back, p)
		}
	}
	if got, _ := EncodePacket(Packet{Type: TypeConnectError, Message: "Rate limit exceeded"}); string(got) != `44{"message":"Rate limit exceeded"}` {
		t.Fatalf("connect error frame %s", got)
	}
}

func TestFixedFramesMatchRecordings(t *testing.T) {
	want := map[string]bool{FrameConnect: false, FrameDisconnect: false, FramePong: false}
	for _, r := range recordedFrames(t, transcript.DirOut) {
		if _, ok := want[r.frame]; ok {
			want[r.frame] = true
		}
	}
	for frame, seen := range want {
		if !seen {
			t.Errorf("the recording client never sent %q", frame)
		}
	}
	lines := transcript.MustLoad(t, "ping")
	for i, l := range lines {
		if l.Dir != transcript.DirIn || l.Frame != "2" {
			continue
		}
		p, err := Parse([]byte(l.Frame))
		if err != nil || p.Type != TypePing {
			t.Fatalf("ping frame parsed as %v, %v", p, err)
		}
		reply := transcript.ByDir(transcript.ByConn(lines[i+1:], l.Conn), transcript.DirOut)
		if len(reply) == 0 || reply[0].Frame != FramePong {
			t.Fatalf("line %d: the answer to a ping was %v, want %q", i+1, reply, FramePong)
		}
	}
}
