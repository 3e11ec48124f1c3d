package frame

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
)

func TestParseFrames(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  Packet
	}{
		{"open", `0{"sid":"YviW8Ym9Bdis_hykAAAd","upgrades":[],"pingInterval":25000,"pingTimeout":120000,"maxPayload":1048576}`,
			Packet{Type: TypeOpen, Open: &Open{SID: "YviW8Ym9Bdis_hykAAAd", Upgrades: []string{}, PingInterval: 25000, PingTimeout: 120000, MaxPayload: 1048576}}},
		{"close", "1", Packet{Type: TypeClose}},
		{"ping", "2", Packet{Type: TypePing}},
		{"ping probe", "2probe", Packet{Type: TypePing, Data: "probe"}},
		{"pong", "3", Packet{Type: TypePong}},
		{"upgrade", "5", Packet{Type: TypeUpgrade}},
		{"noop", "6", Packet{Type: TypeNoop}},
		{"connect request", "40", Packet{Type: TypeConnect}},
		{"connect reply", `40{"sid":"hr6bS57tBto7-HiEAAAe"}`, Packet{Type: TypeConnect, SID: "hr6bS57tBto7-HiEAAAe"}},
		{"connect default namespace", `40/,{"sid":"x"}`, Packet{Type: TypeConnect, SID: "x"}},
		{"disconnect", "41", Packet{Type: TypeDisconnect}},
		{"connect error", `44{"message":"Rate limit exceeded"}`, Packet{Type: TypeConnectError, Message: "Rate limit exceeded"}},
		{"connect error string", `44"Not authorized"`, Packet{Type: TypeConnectError, Message: "Not authorized"}},
		{"event without payload", `42["requestBanlist"]`, Packet{Type: TypeEvent, Name: "requestBanlist"}},
		{"event bare number", `42["rank",-1]`, Packet{Type: TypeEvent, Name: "rank", Args: []json.RawMessage{json.RawMessage(`-1`)}}},
		{"event object", `42["kick",{"reason":""}]`, Packet{Type: TypeEvent, Name: "kick", Args: []json.RawMessage{json.RawMessage(`{"reason":""}`)}}},
		{"event with whitespace", " 42 [ \"rank\" , 2 ] "[1:], Packet{Type: TypeEvent, Name: "rank", Args: []json.RawMessage{json.RawMessage(`2`)}}},
		{"event escaped name", `42["\u0072ank",2]`, Packet{Type: TypeEvent, Name: "rank", Args: []json.RawMessage{json.RawMessage(`2`)}}},
		{"event two args", `42["x",1,{"a":"]"}]`, Packet{Type: TypeEvent, Name: "x", Args: []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`{"a":"]"}`)}}},
		{"event raw utf8", `42["chatMsg",{"msg":"🎉 <&>"}]`, Packet{Type: TypeEvent, Name: "chatMsg", Args: []json.RawMessage{json.RawMessage(`{"msg":"🎉 <&>"}`)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.frame))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.frame, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q) =\n %#v\nwant\n %#v", tt.frame, got, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  error
	}{
		{"empty", "", ErrMalformed},
		{"unknown eio type", "9", ErrMalformed},
		{"open not json", "0sid", ErrMalformed},
		{"open null", "0null", ErrMalformed},
		{"open broken json", `0{"sid":`, ErrMalformed},
		{"open without sid", `0{"pingInterval":1,"pingTimeout":1}`, ErrMalformed},
		{"open without ping interval", `0{"sid":"a","pingTimeout":1}`, ErrMalformed},
		{"open wrong types", `0{"sid":1,"pingInterval":"x"}`, ErrMalformed},
		{"close with data", "1x", ErrMalformed},
		{"bare message", "4", ErrMalformed},
		{"unknown socket.io type", "49", ErrMalformed},
		{"connect with array", `40[1]`, ErrMalformed},
		{"connect broken", `40{"sid"`, ErrMalformed},
		{"disconnect with data", `41x`, ErrMalformed},
		{"connect error empty", `44`, ErrMalformed},
		{"connect error number", `44 5`, ErrMalformed},
		{"connect error broken", `44{"message":`, ErrMalformed},
		{"event not array", `42{"a":1}`, ErrMalformed},
		{"event empty array", `42[]`, ErrMalformed},
		{"event name not string", `42[1,2]`, ErrMalformed},
		{"event unterminated name", `42["rank]`, ErrMalformed},
		{"event bad escape in name", `42["\x",1]`, ErrMalformed},
		{"event control char in name", "42[\"a\x01\",1]", ErrMalformed},
		{"event missing comma", `42["rank" 2]`, ErrMalformed},
		{"event trailing comma", `42["rank",]`, ErrMalformed},
		{"event broken payload", `42["chatMsg",{"msg":]`, ErrMalformed},
		{"event bracket in string", `42["a","x]`, ErrMalformed},
		{"event unclosed", `42["rank",2`, ErrMalformed},
		{"event extra bracket", `42["rank",2]]`, ErrMalformed},
		{"ack", `43["x"]`, ErrUnsupported},
		{"binary event", `451-["x",{"_placeholder":true,"num":0}]`, ErrUnsupported},
		{"event with ack id", `4212["x"]`, ErrUnsupported},
		{"other namespace", `42/admin,["x"]`, ErrUnsupported},
		{"base64 binary", "bAQID", ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.frame))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%q) = %#v, %v; want error %v", tt.frame, got, err, tt.want)
			}
			if got.Type != 0 {
				t.Fatalf("Parse(%q) returned a %s packet with its error", tt.frame, got.Type)
			}
		})
	}
}

func TestParseDoesNotAliasInput(t *testing.T) {
	buf := []byte(`42["chatMsg",{"msg":"hi"}]`)
	p, err := Parse(buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'x'
	}
	if got := string(p.Payload()); got != `{"msg":"hi"}` {
		t.Fatalf("payload changed with the read buffer: %q", got)
	}
}

// Every frame captured from the real server (and every frame the recording
// client sent) must parse, and the recordings must contain each packet kind
// daz relies on.
func TestParseEveryRecordedFrame(t *testing.T) {
	seen := map[Type]int{}
	for _, dir := range []string{transcript.DirIn, transcript.DirOut} {
		for _, r := range recordedFrames(t, dir) {
			p, err := Parse([]byte(r.frame))
			if err != nil {
				t.Errorf("%s: Parse(%.80q): %v", r, r.frame, err)
				continue
			}
			seen[p.Type]++
			checkRecordedPacket(t, r, p)
		}
	}
	for _, typ := range []Type{TypeOpen, TypePing, TypePong, TypeConnect, TypeDisconnect, TypeEvent, TypeConnectError} {
		if seen[typ] == 0 {
			t.Errorf("no %s packet among the recorded frames", typ)
		}
	}
}

func checkRecordedPacket(t *testing.T, r recorded, p Packet) {
	t.Helper()
	switch p.Type {
	case TypeOpen:
		o := p.Open
		if o.SID == "" || o.PingInterval != 25000 || o.PingTimeout != 120000 || o.MaxPayload != 1048576 {
			t.Errorf("%s: open = %+v", r, o)
		}
		if o.PingIntervalDuration().Seconds() != 25 || o.PingTimeoutDuration().Seconds() != 120 {
			t.Errorf("%s: durations %v %v", r, o.PingIntervalDuration(), o.PingTimeoutDuration())
		}
	case TypeConnect:
		if r.dir == transcript.DirIn && strings.HasPrefix(r.frame, "40{") && p.SID == "" {
			t.Errorf("%s: connect reply without sid", r)
		}
	case TypeConnectError:
		if p.Message != "Rate limit exceeded" {
			t.Errorf("%s: connect error %q", r, p.Message)
		}
	case TypeEvent:
		var generic []json.RawMessage
		if err := json.Unmarshal([]byte(r.frame[2:]), &generic); err != nil {
			t.Fatalf("%s: recorded frame is not JSON: %v", r, err)
		}
		var name string
		_ = json.Unmarshal(generic[0], &name)
		if p.Name != name || len(p.Args) != len(generic)-1 {
			t.Errorf("%s: parsed %q with %d args, encoding/json sees %q with %d", r, p.Name, len(p.Args), name, len(generic)-1)
		}
		for i := range p.Args {
			if string(p.Args[i]) != string(generic[i+1]) {
				t.Errorf("%s: arg %d differs from the recorded bytes", r, i)
			}
		}
	}
}
