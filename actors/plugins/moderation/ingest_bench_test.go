package moderation_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/plugins/moderation"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

// BenchmarkChatLogIngest logs the recorded big-channel chat through the SQL
// writer with and without the moderation plugin running 200 automod rules
// on every line, batches alternating between the two setups so both see
// the same machine; "ratio" is the time with automod over the time
// without (goal: ≤ 1.05).
func BenchmarkChatLogIngest(b *testing.B) {
	chat := moderation.RecordedChat(b)
	plain := startIngest(b, false)
	auto := startIngest(b, true)
	var without, with time.Duration
	b.ResetTimer()
	for i := range b.N {
		// Alternate which goes first, so neither always meets a warm or
		// a busy machine.
		order := []*ingest{plain, auto}
		if i%2 == 1 {
			order = []*ingest{auto, plain}
		}
		for _, in := range order {
			d := in.batch(b, chat, i)
			if in == auto {
				with += d
			} else {
				without += d
			}
		}
	}
	b.StopTimer()
	lines := float64(b.N * len(chat))
	b.ReportMetric(lines/without.Seconds(), "lines/s")
	b.ReportMetric(lines/with.Seconds(), "lines/s_automod")
	b.ReportMetric(with.Seconds()/without.Seconds(), "ratio")
}

type ingest struct {
	h    *plugintest.Harness
	base int
}

func startIngest(b *testing.B, automod bool) *ingest {
	b.Helper()
	db := testpg.NewMigrated(b)
	if automod {
		pool := testpg.Pool(b, db)
		for _, s := range moderation.BenchRuleSpecs() {
			dur := time.Duration(0)
			if s[3] != "" {
				d, err := moderation.ParseDuration(s[3])
				if err != nil {
					b.Fatal(err)
				}
				dur = d
			}
			if _, err := pool.Exec(context.Background(), `INSERT INTO daz_moderation_rules
(channel, kind, pattern, action, duration_ms) VALUES ($1, $2, $3, $4, $5)`,
				plugintest.Channel, s[0], s[1], s[2], dur.Milliseconds()); err != nil {
				b.Fatal(err)
			}
		}
	}
	h := plugintest.Start(b, plugintest.Options{DatabaseURL: db, LogEvents: true}, func(d pluginkit.Deps) []pluginkit.Spec {
		if !automod {
			return nil
		}
		return []pluginkit.Spec{{Name: moderation.Name, Props: moderation.Props(d)}}
	})
	if automod {
		h.WaitRegistered("automod")
		h.Join() // once the plugin hears it
		// Every line must meet the rules: all loaded, and our rank known
		// (automod leaves everyone alone until it is).
		h.WaitPluginState(moderation.Name, func(st pluginkit.State) bool {
			raw, err := json.Marshal(st.Detail)
			var d struct {
				Rules   int     `json:"rules"`
				BotRank float64 `json:"bot_rank"`
			}
			return err == nil && json.Unmarshal(raw, &d) == nil && d.Rules == len(moderation.BenchRuleSpecs()) && d.BotRank == 2
		})
	}
	if !automod {
		h.Join()
	}
	in := &ingest{h: h}
	in.base = in.rows(b)
	return in
}

func (in *ingest) rows(b *testing.B) int {
	var n int
	if err := in.h.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM daz_core_chat_log WHERE event_type = 'chatMsg'`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// batch sends the chat once (iteration i shifts the server times, so no
// line is deduplicated away) and returns how long until it is committed.
func (in *ingest) batch(b *testing.B, chat []*messages.ChatMsg, i int) time.Duration {
	start := time.Now()
	for _, c := range chat {
		m := *c
		m.Time += int64(i+1) * 86_400_000
		m.Meta = json.RawMessage(`{}`)
		in.h.Send("chatMsg", &m)
	}
	in.base += len(chat)
	for in.rows(b) < in.base {
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}
