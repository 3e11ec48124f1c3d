package app_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/cmd/daz/sandbox/chatclient"
	"github.com/daz-bot/daz/messages"
)

// panicky asks for every chat line and panics on each one.
type panicky struct{ kit *pluginkit.Kit }

func (p *panicky) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	if _, ok := ctx.Message().(*messages.PluginNotify); ok {
		panic("panicky plugin does what it says")
	}
}

func panickyPlugin(d pluginkit.Deps) []pluginkit.Spec {
	declare := func() pluginkit.Registration { return pluginkit.Registration{Events: []string{"chatMsg"}} }
	return []pluginkit.Spec{{Name: "panicky", Props: pluginkit.Props(d, func() actor.Actor {
		return &panicky{kit: pluginkit.New(d, "panicky", declare)}
	})}}
}

func TestPanickingPluginDoesNotStopLoggingOrOtherPlugins(t *testing.T) {
	s := startStack(t, "iso", func(o *app.Options) { o.ExtraPlugins = panickyPlugin })
	s.waitOnline(t, "iso")
	// 1 000 lines from the server (as CyTube relays a busy channel), paced on
	// the bot's own progress so the sandbox never drops it as a slow client.
	const lines = 1000
	for i := 0; i < lines; i++ {
		if i%100 == 0 {
			actortest.CheckFor(t, 10*time.Second, "the bot keeping up", func() bool {
				return eventsOnMetrics(s.app.DebugAddr(), "iso") >= i-300
			})
		}
		if err := s.sandbox.Say("iso", "owner", fmt.Sprintf("line %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	actortest.CheckFor(t, 30*time.Second, "all 1 000 lines logged", func() bool {
		return s.count(t, `SELECT count(*) FROM daz_core_chat_log WHERE channel = 'iso' AND username = 'owner' AND message LIKE 'line %'`) == lines
	})
	// The plugin really did crash: its supervisor restarted it.
	actortest.CheckFor(t, 10*time.Second, "panicky plugin restarted", func() bool {
		info, ok := s.app.System().Tree().Find("daz/channels/iso/plugins/panicky")
		return ok && info.Restarts >= 1 && info.LastFailure != ""
	})
	if m := httpGet(t, "http://"+s.app.DebugAddr()+"/metrics"); !strings.Contains(m, `daz_plugin_restarts_total{channel="iso",plugin="panicky"}`) {
		t.Error("/metrics does not count the plugin's restarts")
	}
	alice, err := chatclient.Dial(context.Background(), s.sandbox.URL(), "iso", "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	if err := alice.Say("!ping"); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, 15*time.Second, "pong while a plugin crash-loops", func() bool {
		return alice.Count(func(l chatclient.Line) bool { return l.Username == "dazbot" && l.Msg == "pong" }) == 1
	})
}

// A channel whose server accepts connections and never says a word must not
// delay another channel's commands.
func TestStuckChannelDoesNotDelayAnother(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
		}
	}()
	s := startStack(t, "alive", func(o *app.Options) {
		o.Channels = append(o.Channels, app.ChannelOptions{Name: "stuck", ServerURL: "http://" + silent.Addr().String()})
	})
	s.waitOnline(t, "alive")
	alice, err := chatclient.Dial(context.Background(), s.sandbox.URL(), "alive", "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	if err := alice.Say("!ping"); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, 5*time.Second, "pong despite the stuck channel", func() bool {
		return alice.Count(func(l chatclient.Line) bool { return l.Username == "dazbot" && l.Msg == "pong" }) == 1
	})
	if st, ok := s.app.ChannelState("stuck"); ok && st.State == messages.StateOnline {
		t.Fatalf("the silent server cannot be online: %+v", st)
	}
}
