package app

import (
	"errors"
	"testing"
	"time"
)

// New rejects every setting an actor would otherwise trip over in Started,
// naming the key.
func TestNewRejectsBadSettings(t *testing.T) {
	t.Parallel()
	base := func() Options {
		return Options{
			Channels:    []ChannelOptions{{Name: "testchan", ServerURL: "http://127.0.0.1:8080"}},
			DatabaseURL: "postgres://u@127.0.0.1/db",
		}
	}
	cases := []struct {
		name    string
		change  func(*Options)
		wantKey string
	}{
		{"max_delay below base", func(o *Options) {
			o.Retry = RetryOptions{Base: 10 * time.Minute, MaxDelay: 5 * time.Minute, Attempts: 10, Cooldown: time.Hour}
		}, "cytube.retry.max_delay"},
		{"no attempts", func(o *Options) {
			o.Retry = RetryOptions{Base: time.Second, MaxDelay: time.Minute, Cooldown: time.Hour}
		}, "cytube.retry.attempts"},
		{"no flush interval", func(o *Options) { o.Writer = WriterOptions{BatchSize: 10, MaxBuffered: 10} }, "writer.flush_interval"},
		{"bad server url", func(o *Options) { o.Channels[0].ServerURL = "ftp://x" }, "cytube.server_url"},
		{"channel twice", func(o *Options) {
			o.Channels = append(o.Channels, ChannelOptions{Name: "TestChan", ServerURL: "http://h"})
		}, "cytube.channels"},
		{"prefix with a space", func(o *Options) { o.CommandPrefix = "! " }, "commands.prefix"},
		{"bad database url", func(o *Options) { o.DatabaseURL = "postgres://u@h:notaport/db" }, "database.url"},
		{"negative connections per server", func(o *Options) { o.ServerLimits.MaxConnections = -1 }, "cytube.max_connections_per_server"},
		{"negative connect burst", func(o *Options) { o.ServerLimits.ConnectBurst = -1 }, "cytube.connect_burst"},
		{"negative connect interval", func(o *Options) { o.ServerLimits.ConnectInterval = -time.Second }, "cytube.connect_interval"},
		{"override without url", func(o *Options) { o.Servers = []ServerOptions{{}} }, "cytube.servers[0].url"},
		{"negative override", func(o *Options) {
			o.Servers = []ServerOptions{{URL: "https://a.example", ServerLimitOptions: ServerLimitOptions{ConnectBurst: -2}}}
		}, "cytube.servers[0].connect_burst"},
		{"local address not an IP", func(o *Options) { o.LocalAddr = "eth0" }, "cytube.local_addr"},
		{"retention shorter than a month", func(o *Options) { o.LogRetention = 7 * 24 * time.Hour }, "log.retention"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := base()
			tc.change(&o)
			_, err := New(o)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tc.wantKey {
				t.Fatalf("New = %v, want a ConfigError for %s", err, tc.wantKey)
			}
		})
	}
	if _, err := New(base()); err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
}
