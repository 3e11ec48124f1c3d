package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, args, environ []string) (loadedConfig, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := registerConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return loadConfig(fs, *path, environ, true)
}

func TestConfigPrecedenceFileThenEnvThenFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "daz.yaml")
	yaml := "cytube:\n  channel: fromfile\n  username: filebot\n  retry:\n    attempts: 7\ndatabase:\n  url: postgres://file@127.0.0.1/daz\ncommands:\n  prefix: \"?\"\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"DAZ_CYTUBE_USERNAME=envbot", "DAZ_DATABASE_URL=postgres://env@127.0.0.1/daz", "DAZ_UNKNOWN_THING=x"}
	cfg, err := load(t, []string{"-config", file, "-database.url", "postgres://flag@127.0.0.1/daz"}, env)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Options
	if len(o.Channels) != 1 || o.Channels[0].Name != "fromfile" {
		t.Fatalf("channel from file lost: %+v", o.Channels)
	}
	if o.Channels[0].Username != "envbot" {
		t.Errorf("env did not override file: username %q", o.Channels[0].Username)
	}
	if o.DatabaseURL.Reveal() != "postgres://flag@127.0.0.1/daz" {
		t.Errorf("flag did not override env: %q", o.DatabaseURL.Reveal())
	}
	if o.Retry.Attempts != 7 || o.Retry.Base != 2*time.Second || o.Retry.Cooldown != 30*time.Minute {
		t.Errorf("retry = %+v", o.Retry)
	}
	if o.CommandPrefix != "?" || o.UserRateLimit != 10 || o.DebugAddr != "127.0.0.1:6060" || o.Channels[0].ServerURL != "https://cytu.be" {
		t.Errorf("defaults/file values wrong: %+v", o)
	}
}

func TestConfigEnvironmentNamesAreTheContract(t *testing.T) {
	env := []string{
		"DAZ_CYTUBE_SERVER_URL=http://127.0.0.1:8080", "DAZ_CYTUBE_CHANNEL=testchan",
		"DAZ_CYTUBE_USERNAME=dazbot", "DAZ_CYTUBE_PASSWORD=pw", "DAZ_DATABASE_URL=postgres://u@h/db",
		"DAZ_DEBUG_ADDR=127.0.0.1:7070", "DAZ_COMMANDS_PREFIX=$", "DAZ_COMMANDS_USER_RATE_LIMIT=25",
	}
	cfg, err := load(t, nil, env)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Options.Channels[0]
	if c.ServerURL != "http://127.0.0.1:8080" || c.Name != "testchan" || c.Username != "dazbot" || c.Password.Reveal() != "pw" ||
		cfg.Options.DebugAddr != "127.0.0.1:7070" || cfg.Options.CommandPrefix != "$" || cfg.Options.UserRateLimit != 25 {
		t.Fatalf("environment not applied: %+v %+v", cfg.Options, c)
	}
}

func TestConfigChannelList(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "daz.yaml")
	yaml := `cytube:
  server_url: http://127.0.0.1:8080
  channels:
    - name: one
      username: bot1
      password: pw1
    - name: two
      server_url: https://other.example
database:
  url: postgres://u@h/db
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, []string{"-config", file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := cfg.Options.Channels
	if len(ch) != 2 || ch[0].Name != "one" || ch[0].Password.Reveal() != "pw1" || ch[0].ServerURL != "http://127.0.0.1:8080" ||
		ch[1].ServerURL != "https://other.example" || ch[1].Username != "" {
		t.Fatalf("channels = %+v", ch)
	}
}

// log.retention: empty keeps everything; days or a Go duration otherwise.
func TestConfigLogRetention(t *testing.T) {
	base := []string{"DAZ_CYTUBE_CHANNEL=testchan", "DAZ_DATABASE_URL=postgres://u@h/db"}
	cases := []struct {
		name    string
		environ []string
		want    time.Duration
	}{
		{"default keeps everything", base, 0},
		{"days", append(base, "DAZ_LOG_RETENTION=400d"), 400 * 24 * time.Hour},
		{"hours", append(base, "DAZ_LOG_RETENTION=9600h"), 9600 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, nil, tc.environ)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Options.LogRetention != tc.want {
				t.Errorf("retention = %s, want %s", cfg.Options.LogRetention, tc.want)
			}
		})
	}
}

// writer.memory_limit: auto follows the writer's byte budget unless
// GOMEMLIMIT already set one; off and a number are taken as they are.
func TestConfigMemoryLimit(t *testing.T) {
	base := []string{"DAZ_CYTUBE_CHANNEL=testchan", "DAZ_DATABASE_URL=postgres://u@h/db"}
	cases := []struct {
		name       string
		args       []string
		gomemlimit string
		want       int64
	}{
		{"default", nil, "", 48 << 20},
		{"auto with a bigger budget", []string{"-writer.max_buffered_bytes", "67108864"}, "", 96 << 20},
		{"auto defers to GOMEMLIMIT", nil, "200MiB", 0},
		{"off", []string{"-writer.memory_limit", "off"}, "", 0},
		{"bytes", []string{"-writer.memory_limit", "100000000"}, "200MiB", 100_000_000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", tc.gomemlimit)
			cfg, err := load(t, tc.args, base)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Options.MemoryLimit != tc.want {
				t.Errorf("memory limit = %d, want %d", cfg.Options.MemoryLimit, tc.want)
			}
		})
	}
}

func TestInvalidConfigExitsTwoNamingTheKey(t *testing.T) {
	base := []string{"DAZ_CYTUBE_CHANNEL=testchan", "DAZ_DATABASE_URL=postgres://u@h/db"}
	cases := []struct {
		name    string
		environ []string
		args    []string
		wantKey string
	}{
		{"missing channel", []string{"DAZ_DATABASE_URL=postgres://u@h/db"}, nil, "cytube.channel"},
		{"missing database", []string{"DAZ_CYTUBE_CHANNEL=testchan"}, nil, "database.url"},
		{"bad channel name", []string{"DAZ_CYTUBE_CHANNEL=bad name", "DAZ_DATABASE_URL=postgres://u@h/db"}, nil, "cytube.channel"},
		{"bad server url", append(base, "DAZ_CYTUBE_SERVER_URL=ftp://x"), nil, "cytube.server_url"},
		{"bad duration", base, []string{"-cytube.retry.base", "soon"}, "cytube.retry.base"},
		{"bad attempts", base, []string{"-cytube.retry.attempts", "-3"}, "cytube.retry.attempts"},
		{"bad prefix", append(base, "DAZ_COMMANDS_PREFIX= "), nil, "commands.prefix"},
		{"zero rate limit", append(base, "DAZ_COMMANDS_USER_RATE_LIMIT=0"), nil, "commands.user_rate_limit"},
		{"bad rate limit", base, []string{"-commands.user_rate_limit", "ten"}, "commands.user_rate_limit"},
		{"bad database scheme", []string{"DAZ_CYTUBE_CHANNEL=testchan", "DAZ_DATABASE_URL=mysql://u:pw@h/db"}, nil, "database.url"},
		{"bad log format", base, []string{"-log.format", "xml"}, "log.format"},
		{"bad memory limit", base, []string{"-writer.memory_limit", "lots"}, "writer.memory_limit"},
		{"bad retention", append(base, "DAZ_LOG_RETENTION=forever"), nil, "log.retention"},
		{"retention in minutes", base, []string{"-log.retention", "30m"}, "log.retention"},
		{"retention of days shorter than a month", base, []string{"-log.retention", "7d"}, "log.retention"},
		{"unknown flag", base, []string{"-nope"}, "nope"},
		{"missing file", base, []string{"-config", "/does/not/exist.yaml"}, "config"},
		{"public debug without token", append(base, "DAZ_DEBUG_ADDR=0.0.0.0:6060"), nil, "debug.token"},
		{"zero connections per server", append(base, "DAZ_CYTUBE_MAX_CONNECTIONS_PER_SERVER=0"), nil, "cytube.max_connections_per_server"},
		{"bad connect burst", base, []string{"-cytube.connect_burst", "five"}, "cytube.connect_burst"},
		{"bad connect interval", base, []string{"-cytube.connect_interval", "-1s"}, "cytube.connect_interval"},
		{"bad local address", append(base, "DAZ_CYTUBE_LOCAL_ADDR=localhost"), nil, "cytube.local_addr"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runCommand(context.Background(), append([]string{"run"}, tc.args...), tc.environ, &out, &errOut)
			if code != exitConfig {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitConfig, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.wantKey) {
				t.Fatalf("stderr does not name %q: %s", tc.wantKey, errOut.String())
			}
		})
	}
}

func TestPasswordNeverPrinted(t *testing.T) {
	const pw = "Sup3r-S3cret-pw"
	environ := []string{
		"DAZ_CYTUBE_CHANNEL=bad name", "DAZ_CYTUBE_USERNAME=dazbot", "DAZ_CYTUBE_PASSWORD=" + pw,
		"DAZ_CYTUBE_CHANNEL_PASSWORD=" + pw, "DAZ_DATABASE_URL=mysql://u:" + pw + "@h/db", "DAZ_DEBUG_TOKEN=" + pw,
	}
	var out, errOut bytes.Buffer
	if code := runCommand(context.Background(), []string{"run"}, environ, &out, &errOut); code != exitConfig {
		t.Fatalf("exit %d; %s", code, errOut.String())
	}
	var helpOut bytes.Buffer
	runCommand(context.Background(), []string{"run", "-h"}, environ, &helpOut, &helpOut)
	for name, text := range map[string]string{"stdout": out.String(), "stderr": errOut.String(), "help": helpOut.String()} {
		if strings.Contains(text, pw) {
			t.Fatalf("%s contains the password: %s", name, text)
		}
	}
}

func TestHelpExplainsCommandsAndKeys(t *testing.T) {
	var out bytes.Buffer
	if code := runCommand(context.Background(), []string{"-h"}, nil, &out, &out); code != exitOK {
		t.Fatalf("-h exit %d", code)
	}
	for _, want := range []string{"daz [run]", "daz migrate", "DAZ_CYTUBE_SERVER_URL", "DAZ_COMMANDS_PREFIX", "cytube.retry.cooldown"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// A combination that only the retry schedule can judge used to pass the
// CLI and crash-loop the channels actor; it must exit 2 before anything
// starts. The context ends the run should it start after all.
func TestRetryCombinationExitsTwo(t *testing.T) {
	cases := []struct {
		name    string
		environ []string
		wantKey string
	}{
		{"max_delay below base", []string{"DAZ_CYTUBE_RETRY_BASE=10m", "DAZ_CYTUBE_RETRY_MAX_DELAY=5m"}, "cytube.retry.max_delay"},
		{"negative cooldown", []string{"DAZ_CYTUBE_RETRY_COOLDOWN=-1m"}, "cytube.retry.cooldown"},
		{"zero batch", []string{"DAZ_WRITER_BATCH_SIZE=0"}, "writer.batch_size"},
		{"zero shutdown", []string{"DAZ_SHUTDOWN_TIMEOUT=0s"}, "shutdown.timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			environ := append([]string{"DAZ_CYTUBE_CHANNEL=testchan", "DAZ_DATABASE_URL=postgres://u@127.0.0.1:1/db",
				"DAZ_DEBUG_ADDR=127.0.0.1:0", "DAZ_DATA_DIR=" + t.TempDir()}, tc.environ...)
			var out, errOut bytes.Buffer
			code := runCommand(ctx, []string{"run"}, environ, &out, &errOut)
			if code != exitConfig {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitConfig, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.wantKey) || strings.Contains(errOut.String(), "goroutine") {
				t.Fatalf("stderr does not name %q (or has a stack): %s", tc.wantKey, errOut.String())
			}
		})
	}
}

// The README's configuration table states the defaults the code uses.
func TestReadmeDefaultsMatchTheCode(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		key := strings.Trim(strings.TrimSpace(cells[1]), "`")
		documented[key] = strings.TrimSpace(cells[3])
	}
	for _, k := range configKeys {
		doc, ok := documented[k.Key]
		if !ok {
			t.Errorf("README's configuration table lacks %s", k.Key)
			continue
		}
		want := "—"
		if k.Default != "" {
			want = "`" + k.Default + "`"
		}
		if !strings.HasPrefix(doc, want) {
			t.Errorf("README documents %s default %s, the code uses %q", k.Key, doc, k.Default)
		}
	}
}

func TestWebConfig(t *testing.T) {
	base := []string{"DAZ_DATABASE_URL=postgres://u@127.0.0.1/daz"}
	write := func(t *testing.T, yaml string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "daz.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	twoChannels := "cytube:\n  channels:\n    - name: Open\n    - name: staff\n"
	for _, tc := range []struct {
		name    string
		yaml    string
		environ []string
		wantErr string
		check   func(*testing.T, loadedConfig)
	}{
		{name: "default", yaml: twoChannels, check: func(t *testing.T, c loadedConfig) {
			if c.Options.Web.Addr != "127.0.0.1:8090" || c.Options.Web.Channels != nil {
				t.Fatalf("web %+v", c.Options.Web)
			}
		}},
		{name: "empty disables", yaml: twoChannels, environ: []string{"DAZ_WEB_ADDR=", "DAZ_WEB_PUBLIC_URL=https://daz.example"}, check: func(t *testing.T, c loadedConfig) {
			if c.Options.Web.Addr != "" || c.Options.Web.PublicURL != "https://daz.example" {
				t.Fatalf("web %+v", c.Options.Web)
			}
		}},
		{name: "per channel", yaml: twoChannels + "web:\n  channels:\n    staff:\n      public: false\n    open: {}\n", check: func(t *testing.T, c loadedConfig) {
			if got := c.Options.Web.Channels; !got["open"].Public || got["staff"].Public || len(got) != 2 {
				t.Fatalf("channels %+v", got)
			}
		}},
		{name: "unknown channel", yaml: twoChannels + "web:\n  channels:\n    staf:\n      public: false\n", wantErr: "web.channels.staf"},
		{name: "bad public", yaml: twoChannels + "web:\n  channels:\n    staff:\n      public: maybe\n", wantErr: "web.channels.staff.public"},
		{name: "bad addr", yaml: twoChannels, environ: []string{"DAZ_WEB_ADDR=8090"}, wantErr: "web.addr"},
		{name: "bad url", yaml: twoChannels, environ: []string{"DAZ_WEB_PUBLIC_URL=daz.example"}, wantErr: "web.public_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, []string{"-config", write(t, tc.yaml)}, append(base, tc.environ...))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
		})
	}
}

// Per-server limits: the defaults from the keys, overrides from
// cytube.servers with the fields left out inherited; a bad override names
// its own key.
func TestConfigServerLimits(t *testing.T) {
	dir := t.TempDir()
	write := func(yaml string) string {
		t.Helper()
		file := filepath.Join(dir, "daz.yaml")
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	base := []string{"DAZ_CYTUBE_CHANNEL=testchan", "DAZ_DATABASE_URL=postgres://u@h/db", "DAZ_CYTUBE_LOCAL_ADDR=127.0.0.2"}
	file := write(`cytube:
  max_connections_per_server: 12
  servers:
    - url: http://127.0.0.1:8080
      max_connections: 40
      connect_interval: 2s
`)
	cfg, err := load(t, []string{"-config", file, "-cytube.connect_burst", "3"}, base)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Options
	if o.ServerLimits.MaxConnections != 12 || o.ServerLimits.ConnectBurst != 3 || o.ServerLimits.ConnectInterval != 10*time.Second {
		t.Errorf("default limits %+v", o.ServerLimits)
	}
	if len(o.Servers) != 1 || o.Servers[0].URL != "http://127.0.0.1:8080" || o.Servers[0].MaxConnections != 40 ||
		o.Servers[0].ConnectBurst != 0 || o.Servers[0].ConnectInterval != 2*time.Second {
		t.Errorf("overrides %+v", o.Servers)
	}
	if o.LocalAddr != "127.0.0.2" {
		t.Errorf("local address %q", o.LocalAddr)
	}
	for _, tc := range []struct{ yaml, key string }{
		{"cytube:\n  servers:\n    - url: ftp://x\n", "cytube.servers[0].url"},
		{"cytube:\n  servers:\n    - url: https://a.example\n      max_connections: 0\n", "cytube.servers[0].max_connections"},
		{"cytube:\n  servers:\n    - url: https://a.example\n    - url: https://a.example:443/\n", "cytube.servers[1].url"},
		{"cytube:\n  servers:\n    - url: https://a.example\n      connect_interval: soon\n", "cytube.servers[0].connect_interval"},
	} {
		var out, errOut bytes.Buffer
		code := runCommand(context.Background(), []string{"run", "-config", write(tc.yaml)}, base, &out, &errOut)
		if code != exitConfig || !strings.Contains(errOut.String(), tc.key) {
			t.Errorf("%q: exit %d, stderr %s; want %d naming %s", tc.yaml, code, errOut.String(), exitConfig, tc.key)
		}
	}
}
