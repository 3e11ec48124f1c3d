package channelreg

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/migrations"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// migrated gives the test its own database with the daz schema.
func migrated(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	dbURL := pgtest.New(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if _, err := migrations.Up(ctx, dbURL); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return dbURL, pgtest.Pool(t, dbURL)
}

func names(t *testing.T, s *Store) []string {
	t.Helper()
	list, err := s.List(t.Context())
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var out []string
	for _, c := range list {
		out = append(out, c.Name)
	}
	return out
}

func TestStoreAddListRemoveEnable(t *testing.T) {
	t.Parallel()
	_, pool := migrated(t)
	s := NewStore(pool)
	ctx := t.Context()

	if list, err := s.List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("empty list = %v, %v", list, err)
	}
	want := Channel{Name: "MyChan", ServerURL: "https://cytu.be", Username: "bot", PasswordRef: "env:DAZ_BOT_PW",
		ChannelPasswordRef: "file:/etc/daz/chan", Enabled: true}
	if err := s.Add(ctx, want); err != nil {
		t.Fatalf("add: %v", err)
	}
	if err := s.Add(ctx, Channel{Name: "quiet", ServerURL: "http://127.0.0.1:8080"}); err != nil {
		t.Fatalf("add disabled: %v", err)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want.Name, want.Source = "mychan", SourceCLI
	if len(list) != 2 || list[0] != want || list[1] != (Channel{Name: "quiet", ServerURL: "http://127.0.0.1:8080", Source: SourceCLI}) {
		t.Fatalf("list = %+v", list)
	}
	if err := s.Add(ctx, Channel{Name: "MYCHAN", ServerURL: "https://cytu.be"}); !errors.Is(err, ErrExists) {
		t.Fatalf("second add = %v, want ErrExists", err)
	}

	changed, err := s.SetEnabled(ctx, "Quiet", true)
	if err != nil || !changed {
		t.Fatalf("enable = %v, %v", changed, err)
	}
	if changed, err := s.SetEnabled(ctx, "quiet", true); err != nil || changed {
		t.Fatalf("enable again = %v, %v; want unchanged", changed, err)
	}
	if _, err := s.SetEnabled(ctx, "ghost", false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("disable unknown = %v, want ErrNotFound", err)
	}
	if list, _ := s.List(ctx); !list[1].Enabled {
		t.Fatalf("quiet not enabled: %+v", list[1])
	}

	removed, err := s.Remove(ctx, "MyChan")
	if err != nil || removed != want {
		t.Fatalf("remove = %+v, %v", removed, err)
	}
	if _, err := s.Remove(ctx, "mychan"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second remove = %v, want ErrNotFound", err)
	}
	if got := names(t, s); !slices.Equal(got, []string{"quiet"}) {
		t.Fatalf("after remove: %v", got)
	}
}

func TestStoreRejectsBadChannels(t *testing.T) {
	t.Parallel()
	_, pool := migrated(t)
	s := NewStore(pool)
	cases := []struct {
		name string
		c    Channel
		want string
	}{
		{"bad name", Channel{Name: "no spaces", ServerURL: "https://cytu.be"}, "not a valid CyTube channel name"},
		{"long name", Channel{Name: strings.Repeat("a", 31), ServerURL: "https://cytu.be"}, "not a valid CyTube channel name"},
		{"no server", Channel{Name: "x"}, "server URL is required"},
		{"clear password", Channel{Name: "x", ServerURL: "https://cytu.be", PasswordRef: "hunter2"}, "password:"},
		{"clear channel password", Channel{Name: "x", ServerURL: "https://cytu.be", ChannelPasswordRef: "vault:x"}, "channel password:"},
		{"bad source", Channel{Name: "x", ServerURL: "https://cytu.be", Source: "web"}, "source"},
		{"not a URL (the table's check)", Channel{Name: "x", ServerURL: "ftp://x"}, "daz_channels_server_url_check"},
	}
	for _, tc := range cases {
		err := s.Add(t.Context(), tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Add = %v, want an error with %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error echoes the password: %v", tc.name, err)
		}
	}
	if got := names(t, s); len(got) != 0 {
		t.Fatalf("rejected channels were stored: %v", got)
	}
}

// Writers other than the store (psql) meet the same rules in the table.
func TestTableRefusesClearPasswordsAndBadNames(t *testing.T) {
	t.Parallel()
	_, pool := migrated(t)
	for _, stmt := range []string{
		`INSERT INTO daz_channels (name, server_url, source, password_ref) VALUES ('x', 'https://cytu.be', 'cli', 'hunter2')`,
		`INSERT INTO daz_channels (name, server_url, source, channel_password_ref) VALUES ('x', 'https://cytu.be', 'cli', 'file:rel')`,
		`INSERT INTO daz_channels (name, server_url, source) VALUES ('MixedCase', 'https://cytu.be', 'cli')`,
		`INSERT INTO daz_channels (name, server_url, source) VALUES ('x', 'https://cytu.be', 'web')`,
	} {
		if _, err := pool.Exec(t.Context(), stmt); err == nil {
			t.Errorf("accepted: %s", stmt)
		}
	}
}

func TestSeed(t *testing.T) {
	t.Parallel()
	_, pool := migrated(t)
	s := NewStore(pool)
	ctx := t.Context()
	if err := s.Add(ctx, Channel{Name: "clichan", ServerURL: "https://a.example", Username: "clibot", PasswordRef: "env:X", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	config := []Channel{
		ConfigChannel("CfgChan", "https://cytu.be", "bot", true, false),
		ConfigChannel("clichan", "https://b.example", "cfgbot", false, false),
		ConfigChannel("gone", "https://cytu.be", "", false, true),
	}
	if err := s.Seed(ctx, config); err != nil {
		t.Fatalf("seed: %v", err)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Channel{
		{Name: "cfgchan", ServerURL: "https://cytu.be", Username: "bot", PasswordRef: "config", Enabled: true, Source: SourceConfig},
		// A row the CLI added is the operator's: the config does not rewrite it.
		{Name: "clichan", ServerURL: "https://a.example", Username: "clibot", PasswordRef: "env:X", Enabled: true, Source: SourceCLI},
		{Name: "gone", ServerURL: "https://cytu.be", ChannelPasswordRef: "config", Enabled: true, Source: SourceConfig},
	}
	if !slices.Equal(list, want) {
		t.Fatalf("after seed:\n got %+v\nwant %+v", list, want)
	}

	// The operator disables one config channel and removes another; the
	// config then changes cfgchan's server. A restart seeds again.
	if _, err := s.SetEnabled(ctx, "cfgchan", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	config[0].ServerURL = "https://new.example"
	if err := s.Seed(ctx, config); err != nil {
		t.Fatalf("second seed: %v", err)
	}
	list, err = s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want[0].ServerURL, want[0].Enabled = "https://new.example", false // disable sticks, server follows the config
	if !slices.Equal(list, want) {
		t.Fatalf("after the second seed:\n got %+v\nwant %+v", list, want)
	}

	if err := s.Seed(ctx, []Channel{{Name: "bad name", ServerURL: "https://cytu.be"}, ConfigChannel("new", "https://cytu.be", "", false, false)}); err == nil {
		t.Fatal("seed with a bad name succeeded")
	}
	if slices.Contains(names(t, s), "new") {
		t.Fatal("a failed seed stored part of its channels")
	}
}

// A seed that changes nothing writes nothing, so restarting a daemon does
// not wake the group; a seed that changes a row does.
func TestSeedNotifiesOnlyOnChange(t *testing.T) {
	t.Parallel()
	dbURL, pool := migrated(t)
	s := NewStore(pool)
	ctx := t.Context()
	conn := pgtest.Connect(t, dbURL)
	if _, err := conn.Exec(ctx, "LISTEN daz_channels"); err != nil {
		t.Fatal(err)
	}
	config := []Channel{ConfigChannel("a", "https://cytu.be", "", false, false)}
	if err := s.Seed(ctx, config); err != nil {
		t.Fatal(err)
	}
	next := func() string {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		n, err := conn.WaitForNotification(wctx)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return n.Payload
	}
	if got := next(); got != "a" {
		t.Fatalf("seed insert notified %q, want a", got)
	}
	if err := s.Seed(ctx, config); err != nil {
		t.Fatal(err)
	}
	// A marker change after the idle seed: the next notification must be
	// the marker's, not one from the seed.
	if err := s.Add(ctx, Channel{Name: "marker", ServerURL: "https://cytu.be"}); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "marker" {
		t.Fatalf("after an idle seed the next notification is %q, want marker", got)
	}
	if _, err := s.SetEnabled(ctx, "a", true); err != nil { // already enabled: not written
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM daz_channels WHERE name = 'marker'`); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "marker" {
		t.Fatalf("after an idle enable the next notification is %q, want marker", got)
	}
	if _, err := pool.Exec(ctx, `TRUNCATE daz_channels`); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "*" {
		t.Fatalf("truncate notified %q, want *", got)
	}
}
