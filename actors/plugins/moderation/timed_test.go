package moderation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

func (r *rig) events(name string) int {
	n := 0
	for _, e := range r.out.sent() {
		if e.Name == name {
			n++
		}
	}
	return n
}

// liftBan plays the server's side of lifting alice's ban with id.
func (r *rig) liftBan(t *testing.T, name string, id int64) {
	t.Helper()
	r.Send("banlist", &messages.Banlist{Bans: []messages.BanEntry{{ID: id, IP: "*", Name: name, Reason: "spam", BannedBy: "dazbot"}}})
	waitEvent(t, r, "unban", 1)
	if ev := lastEvent(r, "unban"); !sameUnban(ev.Payload, id, name) {
		t.Fatalf("unban payload %+v, want id %d %s", ev.Payload, id, name)
	}
	r.Send("banlistRemove", &messages.BanlistRemove{ID: id, Name: name})
}

// TestTempbanLiftedOnTime: nothing happens a minute early; at the end the
// ban id is looked up and unbanned, and the log row says lifted.
func TestTempbanLiftedOnTime(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(epoch)
	r := startRig(t, rigOptions{fake: fake})
	r.standard()
	r.Chat("Mod", "!tempban alice 1h spam")
	r.waitChat("/ban alice spam", 1)
	r.waitDetail("the tempban tracked", func(d detail) bool { return d.Loaded && d.Active == 1 && !d.NextLift.IsZero() })

	fake.Advance(59 * time.Minute)
	r.Sync("moderation")
	if n := r.events("requestBanlist"); n != 0 {
		t.Fatalf("requestBanlist sent %d times a minute early", n)
	}
	fake.Advance(time.Minute)
	waitEvent(t, r, "requestBanlist", 1)
	// No banlist comes (a reconnect swallowed the request): asked again.
	r.Sync("moderation")
	fake.Advance(30 * time.Second)
	waitEvent(t, r, "requestBanlist", 2)
	r.liftBan(t, "alice", 4)
	r.waitLog("alice", "tempban/lifted")
}

// TestLoadedShownWhenTheStartupReadAnswersLast: a tempban given while the
// start-up read is still under way is tracked at once, and the tree shows
// the plugin loaded when the read does answer (it used to stay "not
// loaded" because the lift timer was already set).
func TestLoadedShownWhenTheStartupReadAnswersLast(t *testing.T) {
	t.Parallel()
	r := startRig(t, rigOptions{hold: true})
	r.standard()
	r.Chat("Mod", "!tempban alice 1h spam")
	r.waitChat("/ban alice spam", 1)
	r.waitDetail("the tempban tracked before the read", func(d detail) bool {
		return !d.Loaded && d.Active == 1 && !d.NextLift.IsZero()
	})
	// Everything but the read of the timed actions answers first, so
	// nothing else publishes the state after it.
	isTimedRead := func(q string) bool { return strings.Contains(q, "until IS NOT NULL") }
	r.release(func(q string) bool { return !isTimedRead(q) })
	r.waitDetail("the rules read and the log row written", func(d detail) bool {
		return !d.Loaded && d.RulesLoaded && d.QueuedRows == 0
	})
	r.release(nil)
	r.waitDetail("loaded, the tempban still tracked", func(d detail) bool {
		return d.Loaded && d.Active == 1 && !d.NextLift.IsZero()
	})
	r.waitLog("alice", "tempban/done")
}

// TestTempbanOutlivesRestartAndOutage: the tempban is stored, daz stops,
// comes back while the database is away, its time runs out meanwhile; the
// ban is lifted (late) once the database answers, and a manual command
// given during the outage works and is logged afterwards.
func TestTempbanOutlivesRestartAndOutage(t *testing.T) {
	t.Parallel()
	r1 := startRig(t, rigOptions{fake: clock.NewFake(epoch)})
	r1.standard()
	r1.Chat("Mod", "!tempban alice 1h spam")
	r1.waitChat("/ban alice spam", 1)
	r1.waitLog("alice", "tempban/done")
	r1.Stop()

	fake := clock.NewFake(epoch.Add(10 * time.Minute))
	r2 := startRig(t, rigOptions{dbURL: r1.DBURL, down: true, fake: fake})
	r2.standard()
	r2.Chat("Mod", "!kick bob being rude")
	r2.waitChat("/kick bob being rude", 1)
	r2.waitAnswer("Kicked bob.")
	r2.waitDetail("the kick's row queued", func(d detail) bool { return !d.Loaded && d.QueuedRows >= 1 })

	// The ban runs out while the database is still away: nothing to lift
	// yet, since the plugin has not read it back.
	fake.Advance(2 * time.Hour)
	r2.Sync("moderation")
	if n := r2.events("requestBanlist"); n != 0 {
		t.Fatalf("requestBanlist sent during the outage: %d", n)
	}

	r2.gate.setDown(false)
	actortest.CheckFor(t, plugintest.Wait, "the late tempban to be lifted", func() bool {
		fake.Advance(5 * time.Second) // the retry timers
		return r2.events("requestBanlist") >= 1
	})
	r2.liftBan(t, "alice", 9)
	r2.waitLog("alice", "tempban/lifted")
	r2.waitLog("bob", "kick/done")
}

// TestTimedMuteReapplied: a user who rejoins under a timed mute, or whom
// someone unmutes early, is muted again (once per window); the mute is
// lifted on time, and one that ran out while the user was away is lifted
// when they come back.
func TestTimedMuteReapplied(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(epoch)
	r := startRig(t, rigOptions{fake: fake})
	r.standard()
	r.Chat("Mod", "!mute alice 10m")
	r.waitChat("/mute alice", 1)
	r.waitAnswer("Muted alice for 10m.")

	r.UserLeave("alice")
	r.AddUser("alice", 1) // the server forgot the mute
	r.waitChat("/mute alice", 2)

	r.Send("setUserMeta", &messages.SetUserMeta{Name: "alice", Meta: messages.UserMeta{Muted: false}})
	r.Sync("moderation")
	if n := count(r.out.lines(), "/mute alice"); n != 2 {
		t.Fatalf("re-muted %d times within the window, want 2 in all", n)
	}
	fake.Advance(15 * time.Second)
	r.Send("setUserMeta", &messages.SetUserMeta{Name: "alice", Meta: messages.UserMeta{Muted: false}})
	r.waitChat("/mute alice", 3)

	// bob's mute runs out while he is away.
	r.Chat("Mod", "!mute bob 5m")
	r.waitChat("/mute bob", 1)
	r.UserLeave("bob")
	r.Sync("moderation") // he is gone before the time runs out

	fake.Advance(10 * time.Minute)
	r.waitChat("/unmute alice", 1)
	r.waitLog("alice", "mute/lifted")
	r.Sync("moderation")
	if n := count(r.out.lines(), "/unmute bob"); n != 0 {
		t.Fatal("unmuted bob while he was away")
	}
	r.Send("addUser", &messages.AddUser{User: messages.User{Name: "bob", Rank: 0, Meta: messages.UserMeta{Muted: true}}})
	r.waitChat("/unmute bob", 1)
	r.waitLog("bob", "mute/lifted")
}

// TestTempbanReappliedWhenLost: a user under a tempban whom the server
// turns away (kicked right after the join) is left to the server; one who
// stays, because the ban was lifted early by mistake, is banned again.
func TestTempbanReappliedWhenLost(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(epoch)
	r := startRig(t, rigOptions{fake: fake})
	r.standard()
	r.Chat("Mod", "!tempban alice 1h spam")
	r.waitChat("/ban alice spam", 1)
	r.UserLeave("alice")

	// The ban holds: the server kicks her at once.
	r.AddUser("alice", 1)
	r.UserLeave("alice")
	r.Sync("moderation")
	fake.Advance(5 * time.Second)
	r.Sync("moderation")
	if n := count(r.out.lines(), "/ban alice spam"); n != 1 {
		t.Fatalf("banned again although the server turned her away (%d bans)", n)
	}

	// Someone unbanned her by mistake: she stays, and is banned again.
	r.Send("banlistRemove", &messages.BanlistRemove{ID: 3, Name: "alice"})
	r.AddUser("alice", 1)
	r.Sync("moderation")
	fake.Advance(5 * time.Second)
	r.waitChat("/ban alice spam", 2)
	r.waitLog("alice", "tempban/done")
}
