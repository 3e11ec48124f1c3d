package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/daz-bot/daz/migrations/pgtest"
)

func runChannels(t *testing.T, dbURL string, args ...string) (int, string, string) {
	t.Helper()
	return runWithDatabase(t, dbURL, append([]string{"channels"}, args...)...)
}

func TestChannelsCommands(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)

	code, out, errOut := runChannels(t, dbURL, "list")
	if code != exitOK || !strings.Contains(out, "no channels registered") {
		t.Fatalf("empty list: exit %d, %q %q", code, out, errOut)
	}
	steps := []struct {
		args []string
		code int
		want string // in stdout on success, in stderr otherwise
	}{
		{[]string{"add", "MyChan", "--server", "https://cytube.example", "--username", "bot", "--password-ref", "env:DAZ_BOT_PW"}, exitOK,
			"channel mychan added on https://cytube.example, enabled"},
		{[]string{"add", "quiet", "--disabled", "--channel-password-ref=file:/etc/daz/quiet"}, exitOK,
			"channel quiet added on https://cytu.be, disabled"},
		{[]string{"add", "mychan"}, exitFailed, "already registered"},
		{[]string{"enable", "quiet"}, exitOK, "channel quiet enabled"},
		{[]string{"enable", "QUIET"}, exitOK, "already enabled"},
		{[]string{"disable", "mychan"}, exitOK, "channel mychan disabled"},
		{[]string{"disable", "ghost"}, exitFailed, "no such channel"},
		{[]string{"remove", "ghost"}, exitFailed, "no such channel"},
	}
	for _, s := range steps {
		code, out, errOut := runChannels(t, dbURL, s.args...)
		got := out
		if s.code != exitOK {
			got = errOut
		}
		if code != s.code || !strings.Contains(got, s.want) {
			t.Fatalf("%v: exit %d (want %d), stdout %q, stderr %q; want %q", s.args, code, s.code, out, errOut, s.want)
		}
	}

	code, out, errOut = runChannels(t, dbURL, "list")
	if code != exitOK {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := [][]string{
		{"NAME", "SERVER", "USERNAME", "ENABLED", "SOURCE", "PASSWORD REF", "CHANNEL PASSWORD REF"},
		{"mychan", "https://cytube.example", "bot", "no", "cli", "env:DAZ_BOT_PW", "-"},
		{"quiet", "https://cytu.be", "-", "yes", "cli", "-", "file:/etc/daz/quiet"},
	}
	if len(lines) != len(want) {
		t.Fatalf("list has %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	cols := regexp.MustCompile(`\S+( \S+)*`) // columns are two spaces or more apart
	for i, line := range lines {
		got := cols.FindAllString(line, -1)
		if strings.Join(got, "|") != strings.Join(want[i], "|") {
			t.Errorf("line %d = %q, want columns %q", i, line, want[i])
		}
		// Aligned: every column starts where the header's does.
		for _, h := range []string{"SERVER", "ENABLED"} {
			at := strings.Index(lines[0], h)
			if line[at-2:at] != "  " || line[at] == ' ' {
				t.Errorf("line %d: column %s not aligned:\n%s", i, h, out)
			}
		}
	}

	code, out, _ = runChannels(t, dbURL, "remove", "MyChan")
	if code != exitOK || !strings.Contains(out, "channel mychan removed") || strings.Contains(out, "config file") {
		t.Fatalf("remove: exit %d, %q", code, out)
	}
	conn := pgtest.Connect(t, dbURL)
	if _, err := conn.Exec(t.Context(), `UPDATE daz_channels SET source = 'config' WHERE name = 'quiet'`); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runChannels(t, dbURL, "remove", "quiet")
	if code != exitOK || !strings.Contains(out, "adds it back") || !strings.Contains(out, "daz channels disable quiet") {
		t.Fatalf("remove of a config channel: exit %d, %q", code, out)
	}
}

func TestChannelsUsageErrors(t *testing.T) {
	t.Parallel()
	cfgFile := filepath.Join(t.TempDir(), "daz.yaml")
	if err := os.WriteFile(cfgFile, []byte("cytube:\n  server_url: notaurl\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := []string{"DAZ_DATABASE_URL=postgres://u@127.0.0.1:1/db"}
	cases := []struct {
		name    string
		args    []string
		environ []string
		want    string
	}{
		{"no subcommand", []string{"channels"}, db, "usage:"},
		{"unknown subcommand", []string{"channels", "rename", "x"}, db, "unknown subcommand"},
		{"add without a name", []string{"channels", "add", "--server", "https://x.example"}, db, "name the channel"},
		{"remove without a name", []string{"channels", "remove"}, db, "name the channel"},
		{"bad name", []string{"channels", "enable", "no/slash"}, db, "not a valid CyTube channel name"},
		{"too long", []string{"channels", "add", strings.Repeat("a", 31)}, db, "not a valid CyTube channel name"},
		{"bad server", []string{"channels", "add", "x", "--server", "ftp://x"}, db, `--server "ftp://x" is not an http(s) URL`},
		{"server without a value", []string{"channels", "add", "x", "--server"}, db, "--server needs a value"},
		{"clear password", []string{"channels", "add", "x", "--username", "bot", "--password-ref", "hunter2"}, db, "--password-ref: a password reference must be"},
		{"unknown ref kind", []string{"channels", "add", "x", "--channel-password-ref", "vault:a"}, db, "unknown password reference kind"},
		{"relative file", []string{"channels", "add", "x", "--username", "bot", "--password-ref", "file:pw"}, db, "absolute path"},
		{"password without account", []string{"channels", "add", "x", "--password-ref", "env:PW"}, db, "needs --username"},
		{"bad disabled", []string{"channels", "add", "x", "--disabled=maybe"}, db, "not true or false"},
		{"unknown flag", []string{"channels", "list", "--frob"}, db, "frob"},
		{"no database", []string{"channels", "list"}, nil, "database.url"},
		{"bad config", []string{"channels", "add", "x", "-config", cfgFile}, db, "cytube.server_url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			if code := runCommand(context.Background(), tc.args, tc.environ, &out, &errOut); code != exitConfig {
				t.Fatalf("exit %d, want %d: %s", code, exitConfig, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.want) {
				t.Fatalf("stderr lacks %q: %s", tc.want, errOut.String())
			}
			if strings.Contains(errOut.String(), "hunter2") {
				t.Fatalf("stderr echoes the password: %s", errOut.String())
			}
		})
	}
}

// The default server of `add` is the configured cytube.server_url.
func TestChannelsAddUsesTheConfiguredServer(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	var out, errOut bytes.Buffer
	code := runCommand(t.Context(), []string{"channels", "add", "x", "-cytube.server_url", "http://127.0.0.1:8080"},
		[]string{"DAZ_DATABASE_URL=" + dbURL}, &out, &errOut)
	if code != exitOK || !strings.Contains(out.String(), "added on http://127.0.0.1:8080") {
		t.Fatalf("exit %d, %q %q", code, out.String(), errOut.String())
	}
}

// A database that refuses the daemon's login stops `daz run` with exit 2
// before it takes any channel.
func TestRunWithARefusedDatabaseLoginExits2(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("daz_no_such_role", "wrong-secret")
	var out, errOut bytes.Buffer
	code := runCommand(t.Context(), []string{"run"}, []string{"DAZ_DATABASE_URL=" + u.String(),
		"DAZ_CYTUBE_CHANNEL=x", "DAZ_CYTUBE_SERVER_URL=http://127.0.0.1:1", "DAZ_DEBUG_ADDR=127.0.0.1:0",
		"DAZ_WEB_ADDR=", "DAZ_DATA_DIR=" + t.TempDir()}, &out, &errOut)
	if code != exitConfig {
		t.Fatalf("exit %d, want %d: %s", code, exitConfig, errOut.String())
	}
	if strings.Contains(errOut.String(), "wrong-secret") {
		t.Fatalf("the password was printed: %s", errOut.String())
	}
}
