package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/migrations"
)

const usageHead = `daz — a CyTube chat-bot daemon.

Usage:
  daz [run] [flags]      join the configured channels, log every event, answer commands (default)
  daz migrate [flags]    apply the database migrations and exit
  daz migrate status [flags]
                         list every migration and whether the database has it
  daz state [flags]      print every channel's persisted connection state
  daz state reset <channel> [flags]
                         clear a channel's persisted state (read at the next start)
  daz token create --channel <channel> --scope say [--label text] [flags]
                         print a new web API token (stored hashed)
  daz token list|revoke <id> [flags]
                         list the tokens, or revoke one
  daz channels add <name> [--server URL] [--username U] [--password-ref REF]
                 [--channel-password-ref REF] [--disabled] [flags]
                         register a channel; every running daemon takes it up within seconds
  daz channels remove|enable|disable <name> [flags]
  daz channels list [flags]
                         change or list the registered channels (REF: env:NAME, file:/path, config)
  daz sandbox [flags]    run a local CyTube-compatible server to try daz without an account
  daz version            print the version and commit

Configuration comes from defaults, then a YAML file (-config path), then the
environment, then flags. Keys, environment variables and defaults:
`

// Exit codes: 2 is a usage or configuration error the operator must fix.
const (
	exitOK     = 0
	exitFailed = 1
	exitConfig = 2
)

func runCommand(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return cmdRun(ctx, args, environ, stderr)
	case "migrate":
		return cmdMigrate(ctx, args, environ, stdout, stderr)
	case "state":
		return cmdState(ctx, args, environ, stdout, stderr)
	case "token":
		return cmdToken(ctx, args, environ, stdout, stderr)
	case "channels":
		return cmdChannels(ctx, args, environ, stdout, stderr)
	case "sandbox":
		return cmdSandbox(ctx, args, stdout, stderr)
	case "version":
		v, c := buildInfo()
		fmt.Fprintf(stdout, "daz %s (commit %s)\n", v, c)
		return exitOK
	case "help":
		printUsage(stdout, nil)
		return exitOK
	default:
		fmt.Fprintf(stderr, "daz: unknown command %q\n\n", cmd)
		printUsage(stderr, nil)
		return exitConfig
	}
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, usageHead)
	fmt.Fprint(w, configReference())
	fmt.Fprintln(w, "\ncytube.channels (file only) lists several channels: [{name, server_url, username, password, channel_password}].")
	if fs != nil {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// parseConfig parses flags and loads the configuration; it returns the exit
// code to use when the caller must stop.
func parseConfig(name string, args, environ []string, stderr io.Writer) (loadedConfig, int, bool) {
	fs := flag.NewFlagSet("daz "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := registerConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stderr, fs)
			return loadedConfig{}, exitOK, false
		}
		fmt.Fprintf(stderr, "daz %s: %v (see daz -h)\n", name, err)
		return loadedConfig{}, exitConfig, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "daz %s: unexpected argument %q (see daz -h)\n", name, fs.Arg(0))
		return loadedConfig{}, exitConfig, false
	}
	cfg, err := loadConfig(fs, *path, environ, name == "run")
	if err != nil {
		fmt.Fprintf(stderr, "daz %s: invalid configuration:\n%v\n", name, err)
		return loadedConfig{}, exitConfig, false
	}
	return cfg, exitOK, true
}

func cmdRun(ctx context.Context, args, environ []string, stderr io.Writer) int {
	cfg, code, ok := parseConfig("run", args, environ, stderr)
	if !ok {
		return code
	}
	opts := cfg.Options
	opts.Logger = newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	opts.Version, opts.Commit = buildInfo()
	opts.Environ = environ // env: password references of daz_channels rows
	a, err := app.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "daz run: %v\n", err)
		var cfgErr *app.ConfigError
		if errors.As(err, &cfgErr) {
			return exitConfig
		}
		return exitFailed
	}
	if err := a.Run(ctx); err != nil {
		opts.Logger.Error("daz stopped with an error", slog.Any("error", err))
		var cfgErr *app.ConfigError
		if errors.As(err, &cfgErr) {
			return exitConfig // e.g. a database password the server refuses
		}
		return exitFailed
	}
	return exitOK
}

func cmdMigrate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	status := len(args) > 0 && args[0] == "status"
	if status {
		args = args[1:]
	}
	cfg, code, ok := parseConfig("migrate", args, environ, stderr)
	if !ok {
		return code
	}
	dbURL := cfg.Options.DatabaseURL
	if status {
		return printMigrationStatus(ctx, dbURL, stdout, stderr)
	}
	applied, err := migrations.Up(ctx, dbURL.Reveal())
	if err != nil {
		fmt.Fprintf(stderr, "daz migrate: %v\n", dbURL.Redact(err.Error()))
		return exitFailed
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "daz migrate: database is up to date")
	}
	for _, name := range applied {
		fmt.Fprintf(stdout, "daz migrate: applied %s\n", name)
	}
	return exitOK
}

// printMigrationStatus lists every migration the binary carries and when
// the database applied it; it applies nothing, so it is safe to run against
// a database other daemons are using.
func printMigrationStatus(ctx context.Context, dbURL app.Secret, stdout, stderr io.Writer) int {
	states, err := migrations.Status(ctx, dbURL.Reveal())
	if err != nil {
		fmt.Fprintf(stderr, "daz migrate status: %v\n", dbURL.Redact(err.Error()))
		return exitFailed
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MIGRATION\tSTATE\tAPPLIED AT")
	pending := 0
	for _, st := range states {
		state, at := "pending", "-"
		if st.Applied {
			state, at = "applied", st.AppliedAt.UTC().Format(time.RFC3339)
		} else {
			pending++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st.Name, state, at)
	}
	_ = tw.Flush()
	if pending > 0 {
		fmt.Fprintf(stdout, "%d pending: `daz migrate` (or starting the daemon) applies them.\n", pending)
	}
	return exitOK
}
