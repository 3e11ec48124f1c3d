package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/messages"
)

// The server cuts the link 100 times, each time right after a chat line:
// every line ends up in the log exactly once, whether the bot read it before
// the cut or only in the next join burst's replay.
func TestHundredDropsEveryLineLoggedOnce(t *testing.T) {
	s := startStack(t, "drops", func(o *app.Options) {
		o.Retry = app.RetryOptions{Base: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, Attempts: 1000, Cooldown: time.Second}
		// This sandbox has no connect-rate limit; a paced daemon would
		// spend the test waiting for its turn to reconnect.
		o.ServerLimits.ConnectBurst, o.ServerLimits.ConnectInterval = 1000, time.Millisecond
	})
	s.waitOnline(t, "drops")
	const drops = 100
	for i := 0; i < drops; i++ {
		if err := s.sandbox.Say("drops", "carol", fmt.Sprintf("before drop %d", i)); err != nil {
			t.Fatal(err)
		}
		cut := time.Now()
		s.sandbox.DropAll()
		actortest.CheckFor(t, 10*time.Second, fmt.Sprintf("back online after drop %d", i), func() bool {
			st, ok := s.app.ChannelState("drops")
			return ok && st.State == messages.StateOnline && st.At.After(cut)
		})
	}
	actortest.CheckFor(t, 10*time.Second, "every line logged", func() bool {
		return s.count(t, `SELECT count(DISTINCT message) FROM daz_core_chat_log
			WHERE channel = 'drops' AND username = 'carol' AND event_type = 'chatMsg'`) == drops
	})
	if n := s.count(t, `SELECT count(*) FROM daz_core_chat_log
		WHERE channel = 'drops' AND username = 'carol' AND event_type = 'chatMsg'`); n != drops {
		t.Fatalf("%d rows for %d lines: replays were logged twice", n, drops)
	}
	if st, _ := s.app.ChannelState("drops"); st.Attempt > 2 {
		t.Fatalf("attempt %d after the last drop: a confirmed login must reset the count", st.Attempt)
	}
}
