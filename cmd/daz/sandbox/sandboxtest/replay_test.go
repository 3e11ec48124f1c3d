package sandboxtest

import (
	"testing"

	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
)

func TestFramesMatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		recorded, got string
		ignorePW      bool
		want          bool
	}{
		{"40", "40", false, true},
		{"40", "41", false, false},
		{`42["login",{"name":"a","pw":"x"}]`, `42["login",{"pw":"x","name":"a"}]`, false, true},
		{`42["login",{"name":"a","pw":"x"}]`, `42["login",{"name":"a","pw":"y"}]`, false, false},
		{`42["login",{"name":"a","pw":"x"}]`, `42["login",{"name":"a","pw":"y"}]`, true, true},
		{`42["joinChannel",{"name":"c"}]`, `42["joinChannel",{"name":"c","pw":"p"}]`, true, true},
		{`42["login",{"name":"a"}]`, `42["login",{"name":"b"}]`, true, false},
		{`42["channelPassword","x"]`, `42["channelPassword","y"]`, true, true},
		{`42["channelPassword","x"]`, `42["channelPassword","y"]`, false, false},
		{`42["chatMsg",{"msg":"hi","meta":{}}]`, `42["pm",{"msg":"hi","meta":{}}]`, false, false},
		{`42["requestBanlist"]`, `42["requestBanlist"]`, false, true},
		{`42["chatMsg",{"msg":"hi"}]`, "not a frame", false, false},
	}
	for _, tc := range cases {
		if got := FramesMatch(tc.recorded, tc.got, tc.ignorePW); got != tc.want {
			t.Errorf("FramesMatch(%s, %s, %v) = %v, want %v", tc.recorded, tc.got, tc.ignorePW, got, tc.want)
		}
	}
}

func TestSplitSocketsCutsAtEachOpen(t *testing.T) {
	t.Parallel()
	lines := transcript.ByConn(transcript.MustLoad(t, "kick_ban"), "alice")
	sockets := splitSockets(lines)
	if len(sockets) != 4 {
		t.Fatalf("alice has %d sockets in kick_ban, want 4", len(sockets))
	}
	for i, s := range sockets {
		if s[0].Dir != transcript.DirWS || s[0].Event != "open" {
			t.Fatalf("socket %d starts with %+v", i, s[0])
		}
		if last := s[len(s)-1]; last.Dir != transcript.DirWS || last.Event != "close" {
			t.Fatalf("socket %d ends with %+v", i, last)
		}
	}
}
