package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/migrations"
	"github.com/daz-bot/daz/supervision"
)

// cmdState prints every channel's persisted connection state, or with
// "reset <channel>" clears one. Only database.url is needed.
func cmdState(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	var reset string
	if len(args) > 0 && args[0] == "reset" {
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			fmt.Fprintln(stderr, "daz state reset: name the channel: daz state reset <channel> [flags]")
			return exitConfig
		}
		reset, args = strings.ToLower(args[1]), args[2:]
	}
	cfg, code, ok := parseConfig("state", args, environ, stderr)
	if !ok {
		return code
	}
	dbURL := cfg.Options.DatabaseURL
	// The table may be older than the binary (credentials_fp): bring the
	// schema up first, as the daemon would at start.
	if _, err := migrations.Up(ctx, dbURL.Reveal()); err != nil {
		fmt.Fprintf(stderr, "daz state: %v\n", dbURL.Redact(err.Error()))
		return exitFailed
	}
	pool, err := pgxpool.New(ctx, dbURL.Reveal())
	if err != nil {
		fmt.Fprintf(stderr, "daz state: %v\n", dbURL.Redact(err.Error()))
		return exitFailed
	}
	defer pool.Close()
	if reset != "" {
		found, err := supervision.ResetRetryState(ctx, pool, reset)
		if err != nil {
			fmt.Fprintf(stderr, "daz state reset: %v\n", dbURL.Redact(err.Error()))
			return exitFailed
		}
		if !found {
			fmt.Fprintf(stdout, "daz state reset: no persisted state for %s; nothing to clear\n", reset)
			return exitOK
		}
		fmt.Fprintf(stdout, "daz state reset: cleared the persisted state of %s.\n"+
			"A running daemon keeps what it holds in memory and reads this table only when it starts:\n"+
			"restart it (e.g. systemctl restart daz) and %s connects at once.\n", reset, reset)
		return exitOK
	}
	states, err := supervision.ListRetryStates(ctx, pool)
	if err != nil {
		fmt.Fprintf(stderr, "daz state: %v\n", dbURL.Redact(err.Error()))
		return exitFailed
	}
	printStates(stdout, states, time.Now())
	return exitOK
}

func printStates(w io.Writer, states []supervision.RetryState, now time.Time) {
	if len(states) == 0 {
		fmt.Fprintln(w, "no persisted connection state: every channel starts a fresh schedule")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tSTATUS\tATTEMPTS\tCOOLDOWN UNTIL\tLAST ERROR\tSTOP REASON\tUPDATED")
	for _, st := range states {
		status := "ok"
		switch {
		case st.StoppedReason != "":
			status = "stopped"
		case now.Before(st.CooldownUntil):
			status = "cooling down"
		case st.RetryCount > 0:
			status = "retrying"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", st.Channel, status, st.RetryCount, timeText(st.CooldownUntil),
			dash(st.LastError), dash(st.StoppedReason), timeText(st.UpdatedAt))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nClear a channel's state with: daz state reset <channel> (a running daemon reads it at its next start)")
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
