// Package sandboxtest starts the sandbox for tests: on a loopback port, closed
// when the test ends, with every socket recorded and no heartbeat of its own
// unless asked. It also replays a recorded transcript's server side through
// the sandbox's socket scripts (NewReplay).
package sandboxtest

import (
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/daz-bot/daz/cmd/daz/sandbox"
)

// Start runs a sandbox until the test ends. It records every socket
// (Options.Record) and pings only on PingAll (Options.ManualPings), since the
// tests drive the daemon's clock, not the server's; unless opts says
// otherwise it sends mediaUpdate only on MediaTick and knows the bot account
// dazbot with password "pw".
func Start(t testing.TB, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	opts.Record = true
	opts.ManualPings = true
	if opts.Accounts == nil {
		opts.Accounts = map[string]sandbox.Account{
			"dazbot": {Password: "pw", Rank: 2},
			"alice":  {Password: "alice", Rank: 1},
		}
	}
	if opts.Channels == nil {
		opts.Channels = []string{"testchan"}
	}
	if opts.MediaUpdateInterval == 0 {
		opts.MediaUpdateInterval = -1 // media moves on MediaTick only
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := sandbox.New(opts)
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// ChatFrame is the chatMsg frame CyTube broadcasts for a line.
func ChatFrame(user, msg string, serverTimeMillis int64) string {
	payload, _ := json.Marshal(map[string]any{
		"username": user, "msg": msg, "meta": map[string]any{}, "time": serverTimeMillis,
	})
	return `42["chatMsg",` + string(payload) + `]`
}

// AnyChannelHere makes discovery point every channel name, valid or not, at
// s, as a permissive CyTube would.
func AnyChannelHere(s *sandbox.Server) {
	s.SetSocketConfig(func(string) (int, string, bool) {
		return 200, `{"servers":[{"url":"` + s.URL() + `","secure":false}]}`, true
	})
}
