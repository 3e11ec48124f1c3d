package logger_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/internal/testutil"
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
	// The burst's replay is not written; the live lines are.
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
	testutil.CheckFor(t, plugintest.Wait, "line count on the tree", func() bool {
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
