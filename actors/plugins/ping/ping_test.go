package ping_test

import (
	"testing"

	"github.com/daz-bot/daz/actors/plugins/ping"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

func specs(d pluginkit.Deps) []pluginkit.Spec {
	return []pluginkit.Spec{{Name: ping.Name, Props: ping.Props(d)}}
}

func TestPingAnswersPongInChatAndByPM(t *testing.T) {
	t.Parallel()
	h := plugintest.Start(t, plugintest.Options{}, specs)
	h.WaitRegistered("ping")
	h.Join(messages.User{Name: "alice", Rank: 1})

	h.Chat("alice", "!ping")
	got := h.WaitSaid("pong")
	if got.PM {
		t.Fatalf("chat !ping answered by PM: %+v", got)
	}
	h.PM("bob", "!PING")
	h.WaitCount(2)
	said := h.Said()
	if s := said[1]; !s.PM || s.To != "bob" || s.Msg != "pong" {
		t.Fatalf("PM !ping answered with %+v, want a PM pong to bob", s)
	}
	if len(said) != 2 {
		t.Fatalf("said %v, want exactly two pongs", said)
	}
}
