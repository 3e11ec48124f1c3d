package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/cmd/daz/web"
	"github.com/daz-bot/daz/migrations"
)

const tokenUsage = `usage:
  daz token create --channel <channel> --scope say [--label text] [flags]
  daz token list [flags]
  daz token revoke <id> [flags]`

// cmdToken manages the web API's tokens. The token is printed once by
// create; only its hash is stored.
func cmdToken(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, tokenUsage)
		return exitConfig
	}
	sub, args := args[0], args[1:]
	own := map[string]string{}
	var rest []string
	var revokeID int64
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		if sub == "create" && strings.HasPrefix(a, "-") && (name == "channel" || name == "scope" || name == "label") {
			if i+1 >= len(args) {
				fmt.Fprintf(stderr, "daz token create: %s needs a value\n%s\n", a, tokenUsage)
				return exitConfig
			}
			own[name] = args[i+1]
			i++
			continue
		}
		if k, v, ok := strings.Cut(name, "="); ok && sub == "create" && strings.HasPrefix(a, "-") && (k == "channel" || k == "scope" || k == "label") {
			own[k] = v
			continue
		}
		if sub == "revoke" && revokeID == 0 && !strings.HasPrefix(a, "-") {
			id, err := strconv.ParseInt(a, 10, 64)
			if err != nil || id <= 0 {
				fmt.Fprintf(stderr, "daz token revoke: %q is not a token id (see daz token list)\n", a)
				return exitConfig
			}
			revokeID = id
			continue
		}
		rest = append(rest, a)
	}
	switch sub {
	case "create":
		if own["channel"] == "" || own["scope"] == "" {
			fmt.Fprintf(stderr, "daz token create: --channel and --scope are required\n%s\n", tokenUsage)
			return exitConfig
		}
	case "revoke":
		if revokeID == 0 {
			fmt.Fprintf(stderr, "daz token revoke: name the token id\n%s\n", tokenUsage)
			return exitConfig
		}
	case "list":
	default:
		fmt.Fprintf(stderr, "daz token: unknown subcommand %q\n%s\n", sub, tokenUsage)
		return exitConfig
	}
	cfg, code, ok := parseConfig("token", rest, environ, stderr)
	if !ok {
		return code
	}
	dbURL := cfg.Options.DatabaseURL
	if _, err := migrations.Up(ctx, dbURL.Reveal()); err != nil {
		fmt.Fprintf(stderr, "daz token: %v\n", dbURL.Redact(err.Error()))
		return exitFailed
	}
	pool, err := pgxpool.New(ctx, dbURL.Reveal())
	if err != nil {
		fmt.Fprintf(stderr, "daz token: %v\n", dbURL.Redact(err.Error()))
		return exitFailed
	}
	defer pool.Close()
	switch sub {
	case "create":
		token, id, err := web.CreateToken(ctx, pool, own["channel"], own["scope"], own["label"])
		if err != nil {
			fmt.Fprintf(stderr, "daz token create: %v\n", dbURL.Redact(err.Error()))
			return exitConfig
		}
		fmt.Fprintf(stdout, "%s\n", token)
		fmt.Fprintf(stderr, "token %d for %s, scope %s. It is shown only this once; daz keeps only its hash.\n",
			id, strings.ToLower(own["channel"]), own["scope"])
	case "list":
		list, err := web.ListTokens(ctx, pool)
		if err != nil {
			fmt.Fprintf(stderr, "daz token list: %v\n", dbURL.Redact(err.Error()))
			return exitFailed
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCHANNEL\tSCOPE\tLABEL\tCREATED\tREVOKED")
		for _, t := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Channel, t.Scope, dash(t.Label), timeText(t.CreatedAt), timeText(t.RevokedAt))
		}
		_ = tw.Flush()
	case "revoke":
		found, err := web.RevokeToken(ctx, pool, revokeID)
		if err != nil {
			fmt.Fprintf(stderr, "daz token revoke: %v\n", dbURL.Redact(err.Error()))
			return exitFailed
		}
		if !found {
			fmt.Fprintf(stderr, "daz token revoke: no live token %d\n", revokeID)
			return exitFailed
		}
		fmt.Fprintf(stdout, "token %d revoked\n", revokeID)
	}
	return exitOK
}
