package logger_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins/logger"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

func specs(d pluginkit.Deps) []pluginkit.Spec {
	return []pluginkit.Spec{{Name: logger.Name, Props: logger.Props(d)}}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDailyTextLog(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 6, 1, 23, 59, 0, 0, time.UTC))
	h := plugintest.Start(t, plugintest.Options{Fake: fake}, specs)
	h.WaitPluginState(logger.Name, func(st pluginkit.State) bool { return len(st.Events) > 0 })
	// The burst's replay is written too: the file has no line yet.
	h.NewSocket()
	h.Send("chatMsg", &messages.ChatMsg{Username: "old", Text: "replayed", Time: fake.Now().Add(-time.Hour).UnixMilli()})
	h.Join()
	h.AddUser("alice", 1)
	h.Chat("alice", "hello\nworld <b>&amp;")
	h.Send("chatMsg", &messages.ChatMsg{Username: "alice", Text: "waves", Meta: json.RawMessage(`{"addClass":"action","action":true}`),
		Time: fake.Now().UnixMilli()})
	h.Send("chatMsg", &messages.ChatMsg{Username: "[server]", Text: "alice joined (aliases: alice)", Time: fake.Now().UnixMilli()})
	h.Send("changeMedia", &messages.ChangeMedia{Media: messages.Media{ID: "abc", Title: "A Song", Type: "yt"}})
	h.Sync(logger.Name)
	fake.Advance(2 * time.Minute)
	h.Chat("alice", "after midnight")
	h.UserLeave("alice")
	h.Sync(logger.Name)

	dir := filepath.Join(h.Deps.LogDir, "testchan")
	want1 := strings.Join([]string{
		"[22:59:00] <old> replayed",
		"[23:59:00] --> alice joined (rank 1)",
		"[23:59:00] <alice> hello world <b>&amp;",
		"[23:59:00] * alice waves",
		"[23:59:00] -server- alice joined (aliases: alice)",
		"[23:59:00] === Now playing: A Song (yt:abc)",
		"",
	}, "\n")
	if got := read(t, filepath.Join(dir, "2026-06-01.log")); got != want1 {
		t.Fatalf("first day:\n%s\nwant:\n%s", got, want1)
	}
	want2 := "[00:01:00] <alice> after midnight\n[00:01:00] <-- alice left\n"
	if got := read(t, filepath.Join(dir, "2026-06-02.log")); got != want2 {
		t.Fatalf("second day:\n%s\nwant:\n%s", got, want2)
	}
	actortest.CheckFor(t, plugintest.Wait, "line count on the tree", func() bool {
		st, _ := h.PluginState(logger.Name)
		b, _ := json.Marshal(st.Detail)
		return strings.Contains(string(b), `"file":"`+filepath.Join(dir, "2026-06-02.log")+`"`)
	})
}

func TestChannelNameCannotEscapeTheLogDir(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"../../etc", "a/b", "", "ok-name_1"} {
		got := logger.SafeName(name)
		if strings.ContainsAny(got, "/\\.") || got == "" {
			t.Errorf("SafeName(%q) = %q", name, got)
		}
	}
}

func TestNoLogDirWritesNothing(t *testing.T) {
	t.Parallel()
	h := plugintest.Start(t, plugintest.Options{Deps: func(d *pluginkit.Deps) { d.LogDir = "" }}, specs)
	h.WaitPluginState(logger.Name, func(st pluginkit.State) bool { return st.Status == pluginkit.StatusRunning })
	h.Join()
	h.Chat("alice", "hi")
	h.Sync(logger.Name)
	if st, _ := h.PluginState(logger.Name); len(st.Events) != 0 {
		t.Fatalf("subscribed to %v without a log directory", st.Events)
	}
}

// chatAt sends a chat line with the given server time, as the join burst
// replays it.
func chatAt(h *plugintest.Harness, user, text string, at time.Time) {
	h.Send("chatMsg", &messages.ChatMsg{Username: user, Msg: text, Text: text, Meta: json.RawMessage(`{}`), Time: at.UnixMilli()})
}

// The join burst after a reconnect replays the channel's last lines; those
// said while daz was away are new to the file and go in, in server-time
// order, and those already written are not written twice, including a line
// said twice in one second and a daemon restart in between.
func TestReplayedBacklogFillsTheGapOnce(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 6, 1, 23, 59, 50, 0, time.UTC)
	fake := clock.NewFake(t0)
	h := plugintest.Start(t, plugintest.Options{Fake: fake, LogEvents: true}, specs)
	h.WaitPluginState(logger.Name, func(st pluginkit.State) bool { return len(st.Events) > 0 })
	h.NewSocket()
	h.Join()
	h.Chat("alice", "one")
	h.Chat("alice", "lol")
	h.Chat("alice", "lol")
	fake.Advance(time.Second)
	h.Chat("bob", "two")
	h.Sync(logger.Name)

	// Disconnected at 23:59:51; back at 23:59:58. The burst replays the
	// last lines, three of them said while daz was away.
	fake.Advance(7 * time.Second)
	replay := func(h *plugintest.Harness, extra ...func()) {
		h.NewSocket()
		chatAt(h, "zed", "from an hour ago", t0.Add(-time.Hour))
		chatAt(h, "alice", "one", t0)
		chatAt(h, "alice", "lol", t0)
		chatAt(h, "alice", "lol", t0)
		chatAt(h, "bob", "two", t0.Add(time.Second))
		chatAt(h, "carol", "while away", t0.Add(3*time.Second))
		chatAt(h, "carol", "lol", t0.Add(3*time.Second))
		chatAt(h, "carol", "still away", t0.Add(4*time.Second))
		for _, f := range extra {
			f()
		}
		h.Join()
	}
	replay(h)
	h.Chat("alice", "back")
	h.Sync(logger.Name)

	dir := filepath.Join(h.Deps.LogDir, "testchan")
	day1 := filepath.Join(dir, "2026-06-01.log")
	want := strings.Join([]string{
		"[23:59:50] <alice> one",
		"[23:59:50] <alice> lol",
		"[23:59:50] <alice> lol",
		"[23:59:51] <bob> two",
		"[23:59:53] <carol> while away",
		"[23:59:53] <carol> lol",
		"[23:59:54] <carol> still away",
		"[23:59:58] <alice> back",
		"",
	}, "\n")
	if got := read(t, day1); got != want {
		t.Fatalf("after a reconnect:\n%s\nwant:\n%s", got, want)
	}
	// A second reconnect replaying the same lines adds nothing.
	replay(h)
	h.Sync(logger.Name)
	if got := read(t, day1); got != want {
		t.Fatalf("after a second identical replay:\n%s\nwant:\n%s", got, want)
	}

	// The daemon restarts after midnight; its burst replays the same lines
	// and two said meanwhile, one on each side of midnight. The new logger
	// finds where the file stopped in its tail.
	logDir, dbURL := h.Deps.LogDir, h.DBURL
	h.Stop()
	fake.Advance(10 * time.Second)
	h2 := plugintest.Start(t, plugintest.Options{Fake: fake, LogEvents: true, DatabaseURL: dbURL,
		Deps: func(d *pluginkit.Deps) { d.LogDir = logDir }}, specs)
	h2.WaitPluginState(logger.Name, func(st pluginkit.State) bool { return len(st.Events) > 0 })
	replay(h2, func() {
		chatAt(h2, "alice", "back", t0.Add(8*time.Second))
		chatAt(h2, "dave", "before midnight", t0.Add(9*time.Second))
		chatAt(h2, "dave", "after midnight", t0.Add(11*time.Second))
	})
	h2.Sync(logger.Name)
	want = strings.TrimSuffix(want, "\n") + "\n[23:59:59] <dave> before midnight\n"
	if got := read(t, day1); got != want {
		t.Fatalf("first day after a restart:\n%s\nwant:\n%s", got, want)
	}
	if got, want2 := read(t, filepath.Join(dir, "2026-06-02.log")), "[00:00:01] <dave> after midnight\n"; got != want2 {
		t.Fatalf("second day after a restart:\n%s\nwant:\n%s", got, want2)
	}
	// Every chat line the database has since daz first joined is in the
	// files (the database keeps one "lol" of the two said in the same
	// millisecond: its dedup key cannot tell them apart).
	files := read(t, day1) + read(t, filepath.Join(dir, "2026-06-02.log"))
	actortest.CheckFor(t, plugintest.Wait, "chat rows stored", func() bool {
		var n int
		err := h2.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM daz_core_chat_log WHERE event_type = 'chatMsg' AND timestamp >= $1`, t0).Scan(&n)
		return err == nil && n == 9
	})
	rows, err := h2.Pool.Query(context.Background(), `SELECT timestamp, username, message FROM daz_core_chat_log
		WHERE event_type = 'chatMsg' AND timestamp >= $1 ORDER BY timestamp`, t0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var at time.Time
		var user, msg string
		if err := rows.Scan(&at, &user, &msg); err != nil {
			t.Fatal(err)
		}
		if line := "[" + at.UTC().Format("15:04:05") + "] <" + user + "> " + msg + "\n"; !strings.Contains(files, line) {
			t.Errorf("database line %q missing from the text log", line)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
