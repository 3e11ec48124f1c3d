package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/cmd/daz/debugserver"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/chatclient"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// stack is a sandbox, PostgreSQL and a running daemon in one test.
type stack struct {
	sandbox *sandbox.Server
	app     *app.App
	dbURL   string
	stop    func() error
}

func startStack(t *testing.T, channel string, mutate func(*app.Options)) *stack {
	t.Helper()
	dbURL := pgtest.New(t)
	sb, err := sandbox.New(sandbox.Options{Addr: "127.0.0.1:0", Channels: []string{channel}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := sb.Start(ctx); err != nil {
		t.Fatal(err)
	}
	opts := app.Options{
		Channels:    []app.ChannelOptions{{Name: channel, ServerURL: sb.URL(), Username: "dazbot", Password: "dazbot"}},
		DatabaseURL: app.Secret(dbURL),
		DebugAddr:   "127.0.0.1:0",
		DataDir:     t.TempDir(),
		Logger:      actortest.Logger(t, slog.LevelWarn),
		Version:     "e2e",
	}
	if mutate != nil {
		mutate(&opts)
	}
	a, err := app.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx) }()
	select {
	case <-a.Started():
	case err := <-runErr:
		t.Fatalf("app did not start: %v", err)
	}
	s := &stack{sandbox: sb, app: a, dbURL: dbURL}
	var stopped bool
	var stopErr error
	s.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			stopErr = <-runErr
			_ = sb.Close()
		}
		return stopErr
	}
	t.Cleanup(func() { _ = s.stop() })
	return s
}

func (s *stack) waitOnline(t *testing.T, channel string) {
	t.Helper()
	actortest.CheckFor(t, 20*time.Second, channel+" online", func() bool {
		st, ok := s.app.ChannelState(channel)
		return ok && st.State == messages.StateOnline
	})
}

func (s *stack) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return string(b)
}

func findNode(nodes []actorkit.NodeInfo, id string) (actorkit.NodeInfo, bool) {
	for _, n := range nodes {
		if n.ID == id {
			return n, true
		}
		if found, ok := findNode(n.Children, id); ok {
			return found, true
		}
	}
	return actorkit.NodeInfo{}, false
}

func TestEndToEndPingIsAnsweredLoggedAndVisible(t *testing.T) {
	s := startStack(t, "e2e", nil)
	s.waitOnline(t, "e2e")

	alice, err := chatclient.Dial(context.Background(), s.sandbox.URL(), "e2e", "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	isPong := func(l chatclient.Line) bool { return l.Event == "chatMsg" && l.Username == "dazbot" && l.Msg == "pong" }
	// Her login precedes the line on the same socket, so the server sees a
	// logged-in user speak.
	if err := alice.Say("!ping"); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, 10*time.Second, "pong in chat", func() bool { return alice.Count(isPong) >= 1 })

	actortest.CheckFor(t, 10*time.Second, "the !ping row", func() bool {
		return s.count(t, `SELECT count(*) FROM daz_core_chat_log
			WHERE channel = 'e2e' AND event_type = 'chatMsg' AND username = 'alice' AND message = '!ping'`) == 1
	})

	base := "http://" + s.app.DebugAddr()
	var rep debugserver.ActorsReport
	if err := json.Unmarshal([]byte(httpGet(t, base+"/debug/actors")), &rep); err != nil {
		t.Fatal(err)
	}
	conn, ok := findNode(rep.Actors, "daz/channels/e2e/connection")
	if !ok {
		t.Fatalf("connection missing from /debug/actors: %+v", rep.Actors)
	}
	state, _ := conn.State.(map[string]any)
	if state["state"] != "online" {
		t.Fatalf("connection state on /debug/actors = %v", conn.State)
	}
	for _, id := range []string{"daz/sqlwriter", "daz/logmaint", "daz/channels/e2e/eventfilter", "daz/channels/e2e/outbound", "daz/channels/e2e/plugins/ping"} {
		if _, ok := findNode(rep.Actors, id); !ok {
			t.Errorf("%s missing from the tree", id)
		}
	}
	actortest.CheckFor(t, 5*time.Second, "metrics count chat events", func() bool {
		return strings.Contains(httpGet(t, base+"/metrics"), `daz_events_total{event="chatMsg"}`)
	})
	metricsText := httpGet(t, base+"/metrics")
	for _, want := range []string{
		`daz_chatlog_rows_written_total`, `daz_chatlog_batch_size_bucket`, `daz_chatlog_write_seconds_bucket`,
		`daz_outbound_queue_depth{channel="e2e"}`, `daz_plugin_restarts_total{channel="e2e",plugin="ping"} 0`,
		`daz_eventfilter_routes_total{channel="e2e",decision="routed"}`,
		`daz_command_seconds_count{command="ping"} 1`,
		`daz_connection_events_total{channel="e2e"}`, `daz_unknown_events_total{channel="e2e"} 0`,
	} {
		if !strings.Contains(metricsText, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if body := httpGet(t, base+"/readyz"); !strings.Contains(body, `"ready": true`) {
		t.Fatalf("/readyz = %s", body)
	}

	// Exactly one pong: the join backlog and our own echo are never answered.
	if n := alice.Count(isPong); n != 1 {
		t.Fatalf("%d pongs for one !ping", n)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
}
