package moderation_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/chatclient"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/messages"
)

const sbWait = 15 * time.Second

// live is the daemon logged in to the sandbox as dazbot (rank 2), with
// users joining over their own websockets.
type live struct {
	t  *testing.T
	sb *sandbox.Server
	db string
}

func startLive(t *testing.T) *live {
	t.Helper()
	sb := sandboxtest.Start(t, sandbox.Options{Accounts: map[string]sandbox.Account{
		"dazbot": {Password: "pw", Rank: 2},
		"admin":  {Password: "admin", Rank: 3},
		"owner":  {Password: "owner", Rank: 5},
		"alice":  {Password: "alice", Rank: 1},
	}})
	db := testpg.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(app.Options{
		Channels:    []app.ChannelOptions{{Name: "testchan", ServerURL: sb.URL(), Username: "dazbot", Password: "pw"}},
		DatabaseURL: app.Secret(db),
		DebugAddr:   "127.0.0.1:0",
		DataDir:     t.TempDir(),
		Logger:      actortest.Logger(t, slog.LevelWarn),
		Version:     "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-a.Started():
	case err := <-done:
		cancel()
		t.Fatalf("daemon did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	actortest.CheckFor(t, sbWait, "daz online", func() bool {
		st, ok := a.ChannelState("testchan")
		return ok && st.State == messages.StateOnline
	})
	return &live{t: t, sb: sb, db: db}
}

func (l *live) dial(name string) *chatclient.Client {
	l.t.Helper()
	c, err := chatclient.Dial(context.Background(), l.sb.URL(), "testchan", name, name)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(c.Close)
	return c
}

func (l *live) say(c *chatclient.Client, msg string) {
	l.t.Helper()
	if err := c.Say(msg); err != nil {
		l.t.Fatal(err)
	}
}

// waitLine waits for a chatMsg or PM from user containing want.
func waitLine(t *testing.T, c *chatclient.Client, user, want string) {
	t.Helper()
	actortest.CheckFor(t, sbWait, user+" saying "+want, func() bool {
		return c.Count(func(l chatclient.Line) bool {
			return l.Username == user && strings.Contains(l.Msg, want)
		}) > 0
	})
}

// TestCommandsAgainstTheSandbox: the commands, their refusals and a server
// refusal, end to end over real websockets.
func TestCommandsAgainstTheSandbox(t *testing.T) {
	t.Parallel()
	l := startLive(t)
	admin := l.dial("admin")
	alice := l.dial("alice")
	waitLine(t, admin, "[server]", "alice joined")

	// Refusals: rank (the EventFilter), unknown user, target rank.
	l.say(alice, "!ban admin")
	waitLine(t, alice, "dazbot", "!ban needs rank 3")
	l.say(admin, "!kick nobody")
	waitLine(t, admin, "dazbot", "nobody is not here.")
	owner := l.dial("owner")
	waitLine(t, admin, "[server]", "owner joined")
	l.say(admin, "!kick owner")
	waitLine(t, admin, "dazbot", "You can't kick owner: their rank (5) is not below yours (3).")

	// A timed mute, then a server refusal the bot reports: the sandbox
	// never refuses what the plugin checked, so the hook API plays it.
	l.say(admin, "!mute alice 10m")
	waitLine(t, admin, "[server]", "dazbot muted alice")
	// Lifted early by someone else's mistake: applied again.
	l.say(owner, "/unmute alice")
	waitLine(t, admin, "[server]", "owner unmuted alice")
	actortest.CheckFor(t, sbWait, "alice muted again", func() bool {
		return admin.Count(func(x chatclient.Line) bool { return x.Msg == "dazbot muted alice" }) == 2
	})
	l.say(admin, "!unmute alice")
	waitLine(t, admin, "[server]", "dazbot unmuted alice")
	l.say(admin, "!kick alice be nice")
	waitLine(t, admin, "[server]", "dazbot kicked alice")
	if err := l.sb.Socket(1).Emit("errorMsg", map[string]string{"msg": "You do not have permission to kick alice"}); err != nil {
		t.Fatal(err)
	}
	waitLine(t, admin, "dazbot", "The server refused to kick alice: You do not have permission to kick alice")

	// A tempban, and !unban through the banlist.
	l.dial("alice")
	waitLine(t, owner, "[server]", "alice joined")
	l.say(admin, "!tempban alice 1h spam")
	waitLine(t, admin, "[server]", "dazbot namebanned alice")
	l.say(admin, "!unban alice")
	waitLine(t, admin, "[server]", "dazbot unbanned alice")
	waitLine(t, admin, "dazbot", "Unbanned alice.")

	// Our rank drops below the ban threshold: said instead of sent.
	if err := l.sb.SetRank("testchan", "dazbot", 1.5); err != nil {
		t.Fatal(err)
	}
	l.dial("alice")
	actortest.CheckFor(t, sbWait, "alice back", func() bool {
		return admin.Count(func(x chatclient.Line) bool { return strings.Contains(x.Msg, "alice joined") }) >= 3
	})
	l.say(admin, "!ban alice")
	waitLine(t, admin, "dazbot", "I need rank 2 to ban here.")
}
