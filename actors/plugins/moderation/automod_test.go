package moderation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/clock"
)

// TestAutomodCommandsAndEnforcement: rules are added from chat (bad ones
// refused with the reason), act on users below their rank, never on the
// bot, staff or [server]; a burst of violations is one command; !automod
// test names what a line would trip; dry-run only logs; del removes.
func TestAutomodCommandsAndEnforcement(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(epoch)
	r := startRig(t, rigOptions{fake: fake})
	r.standard()
	r.waitDetail("rules loaded and our rank known", func(d detail) bool { return d.RulesLoaded && d.BotRank == 2 })

	r.Chat("Admin", "!automod add word grapefruit mute 5m")
	r.waitAnswer("Added rule #1 word grapefruit → mute 5m.")
	r.Chat("Admin", "!automod add regex ( warn")
	r.waitAnswer("Rule refused: invalid regex")
	r.Chat("Admin", "!automod add flood 1000/1s kick")
	r.waitAnswer("Rule refused: flood wants N/T with N from 3 to 100")
	r.Chat("Mod", "!automod list")
	r.waitAnswer("needs rank 3")

	// Never the bot, staff at or above its rank, or [server].
	r.Chat("dazbot", "grapefruit")
	r.Chat("Mod", "grapefruit")
	r.Chat("Admin", "grapefruit")
	r.Chat("[server]", "grapefruit joined")
	r.Sync("moderation")
	for _, l := range r.out.lines() {
		if strings.HasPrefix(l, "/") {
			t.Fatalf("a rule acted on the bot, staff or the server: %q", l)
		}
	}

	// A flood of violations: one mute.
	for range 20 {
		r.Chat("alice", "grapefruit grapefruit")
	}
	r.waitChat("/mute alice", 1)
	r.Sync("moderation")
	if n := count(r.out.lines(), "/mute alice"); n != 1 {
		t.Fatalf("20 violations gave %d mutes", n)
	}
	r.waitLog("alice", "mute/done")

	r.Chat("Admin", "!automod test some grapefruit juice")
	r.waitAnswer("Would trip: #1 word grapefruit → mute 5m")
	r.Chat("Admin", "!automod test lemonade")
	r.waitAnswer("No rule would trip on that")

	r.Chat("Admin", "!automod dryrun 1 on")
	r.waitAnswer("Rule #1 dry-run on.")
	r.Chat("Admin", "!automod list")
	r.waitAnswer("#1 word grapefruit → mute 5m [dry-run]")
	fake.Advance(time.Second)
	r.Chat("bob", "GRAPEFRUIT")
	r.waitLog("bob", "mute/dry-run")
	if n := count(r.out.lines(), "/mute bob"); n != 0 {
		t.Fatal("a dry-run rule muted bob")
	}

	r.Chat("Admin", "!automod del 1")
	r.waitAnswer("Rule #1 deleted.")
	r.Chat("Admin", "!automod del 1")
	r.waitAnswer("There is no rule #1.")
	r.waitDetail("no rules left", func(d detail) bool { return d.Rules == 0 })
}
