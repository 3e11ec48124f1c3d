package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/cmd/daz/channelreg"
	"github.com/daz-bot/daz/migrations"
)

const channelsUsage = `usage:
  daz channels add <name> [--server URL] [--username U] [--password-ref REF]
                          [--channel-password-ref REF] [--disabled] [flags]
  daz channels remove|enable|disable <name> [flags]
  daz channels list [flags]
REF is env:NAME (a daemon's environment variable), file:/path (a file on the
daemon's host) or config (the daemon's own configuration); never a password.`

// cmdChannels changes daz_channels; every running daemon follows the table
// through its notifications, so nothing needs a restart.
func cmdChannels(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, channelsUsage)
		return exitConfig
	}
	sub, args := args[0], args[1:]
	var name string
	switch sub {
	case "add", "remove", "enable", "disable":
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			fmt.Fprintf(stderr, "daz channels %s: name the channel\n%s\n", sub, channelsUsage)
			return exitConfig
		}
		name, args = args[0], args[1:]
		if !channelreg.ValidName(name) {
			fmt.Fprintf(stderr, "daz channels %s: %q is not a valid CyTube channel name (1-30 of a-z, A-Z, 0-9, - and _)\n", sub, name)
			return exitConfig
		}
		name = strings.ToLower(name)
	case "list":
	default:
		fmt.Fprintf(stderr, "daz channels: unknown subcommand %q\n%s\n", sub, channelsUsage)
		return exitConfig
	}
	own := map[string]string{}
	if sub == "add" {
		var err error
		own, args, err = ownFlags(args, []string{"server", "username", "password-ref", "channel-password-ref"}, []string{"disabled"})
		if err != nil {
			fmt.Fprintf(stderr, "daz channels add: %v\n%s\n", err, channelsUsage)
			return exitConfig
		}
	}
	cfg, code, ok := parseConfig("channels", args, environ, stderr)
	if !ok {
		return code
	}
	var add channelreg.Channel
	if sub == "add" {
		var msg string
		add, msg = channelToAdd(name, own, cfg.ServerURL)
		if msg != "" {
			fmt.Fprintf(stderr, "daz channels add: %s\n", msg)
			return exitConfig
		}
	}
	dbURL := cfg.Options.DatabaseURL
	if _, err := migrations.Up(ctx, dbURL.Reveal()); err != nil {
		fmt.Fprintf(stderr, "daz channels: %v\n", dbURL.Redact(err.Error()))
		return exitFailed
	}
	pool, err := pgxpool.New(ctx, dbURL.Reveal())
	if err != nil {
		fmt.Fprintf(stderr, "daz channels: %v\n", dbURL.Redact(err.Error()))
		return exitFailed
	}
	defer pool.Close()
	store := channelreg.NewStore(pool)
	fail := func(err error) int {
		fmt.Fprintf(stderr, "daz channels %s: %v\n", sub, dbURL.Redact(err.Error()))
		return exitFailed
	}
	switch sub {
	case "add":
		if err := store.Add(ctx, add); err != nil {
			return fail(err)
		}
		state := "enabled: running daemons take it up within seconds"
		if !add.Enabled {
			state = "disabled: `daz channels enable " + name + "` starts it"
		}
		fmt.Fprintf(stdout, "channel %s added on %s, %s\n", name, add.ServerURL, state)
	case "remove":
		removed, err := store.Remove(ctx, name)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "channel %s removed: running daemons leave it within seconds\n", name)
		if removed.Source == channelreg.SourceConfig {
			fmt.Fprintf(stdout, "It came from a config file: a daemon started with that file adds it back. Take it out of\n"+
				"the file, or keep it off with: daz channels disable %s\n", name)
		}
	case "enable", "disable":
		enabled := sub == "enable"
		changed, err := store.SetEnabled(ctx, name, enabled)
		if err != nil {
			return fail(err)
		}
		switch {
		case !changed:
			fmt.Fprintf(stdout, "channel %s was already %sd\n", name, sub)
		case enabled:
			fmt.Fprintf(stdout, "channel %s enabled: running daemons take it up within seconds\n", name)
		default:
			fmt.Fprintf(stdout, "channel %s disabled: running daemons leave it within seconds\n", name)
		}
	case "list":
		list, err := store.List(ctx)
		if err != nil {
			return fail(err)
		}
		printChannels(stdout, list)
	}
	return exitOK
}

// channelToAdd builds the row `daz channels add` writes, or says what is
// wrong with the flags.
func channelToAdd(name string, own map[string]string, defaultServer string) (channelreg.Channel, string) {
	c := channelreg.Channel{
		Name: name, ServerURL: defaultServer, Username: own["username"], Enabled: true, Source: channelreg.SourceCLI,
		PasswordRef: own["password-ref"], ChannelPasswordRef: own["channel-password-ref"],
	}
	if s, ok := own["server"]; ok {
		if err := checkServerURL("server", s); err != nil {
			return c, fmt.Sprintf("--server %q is not an http(s) URL", s)
		}
		c.ServerURL = s
	}
	if v, ok := own["disabled"]; ok {
		off, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Sprintf("--disabled=%q is not true or false", v)
		}
		c.Enabled = !off
	}
	if err := channelreg.ValidateRef(c.PasswordRef); err != nil {
		return c, fmt.Sprintf("--password-ref: %v", err)
	}
	if err := channelreg.ValidateRef(c.ChannelPasswordRef); err != nil {
		return c, fmt.Sprintf("--channel-password-ref: %v", err)
	}
	if c.PasswordRef != "" && c.Username == "" {
		return c, "--password-ref needs --username (the account the password belongs to)"
	}
	return c, ""
}

// ownFlags takes a subcommand's own flags (-x v, --x v, --x=v; bools
// without a value) out of args and leaves the rest for parseConfig.
func ownFlags(args, values, bools []string) (map[string]string, []string, error) {
	own := map[string]string{}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		key, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case slices.Contains(values, key):
			if !hasVal {
				if i+1 >= len(args) {
					return nil, nil, fmt.Errorf("%s needs a value", a)
				}
				i++
				val = args[i]
			}
			own[key] = val
		case slices.Contains(bools, key):
			if !hasVal {
				val = "true"
			}
			own[key] = val
		default:
			rest = append(rest, a)
		}
	}
	return own, rest, nil
}

// printChannels shows the registry; the refs are shown since they only say
// where a password is, never what it is.
func printChannels(w io.Writer, list []channelreg.Channel) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no channels registered: add one with daz channels add <name>, or list them in the config file\n"+
			"(a daemon seeds them when it starts)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSERVER\tUSERNAME\tENABLED\tSOURCE\tPASSWORD REF\tCHANNEL PASSWORD REF")
	for _, c := range list {
		enabled := "yes"
		if !c.Enabled {
			enabled = "no"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.ServerURL, dash(c.Username), enabled, c.Source,
			dash(c.PasswordRef), dash(c.ChannelPasswordRef))
	}
	_ = tw.Flush()
}
