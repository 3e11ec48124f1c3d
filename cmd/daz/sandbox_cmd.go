package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/daz-bot/daz/cmd/daz/sandbox"
)

// cmdSandbox runs the local CyTube-compatible server until the context ends.
func cmdSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("daz sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (loopback keeps it private)")
	channels := fs.String("channels", "sandbox", "comma-separated registered channels")
	logFormat := fs.String("log.format", "auto", "json, text or auto")
	maxPerIP := fs.Int("max-sockets-per-ip", sandbox.CyTubeMaxSocketsPerIP,
		"sockets one IP may hold at once, as on CyTube (0: no cap)")
	burst := fs.Int("connect-burst", sandbox.CyTubeConnectBurst,
		"new sockets one IP may open at once before the rate limit, as on CyTube (0: no limit)")
	interval := fs.Duration("connect-interval", sandbox.CyTubeConnectInterval,
		"one more socket per IP after this long, once the burst is spent")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitConfig
	}
	logger := newLogger(stderr, *logFormat, "info")
	srv, err := sandbox.New(sandbox.Options{
		Addr: *addr, Channels: strings.Split(*channels, ","), Logger: logger,
		MaxSocketsPerIP: *maxPerIP, ConnectBurst: *burst, ConnectInterval: *interval,
	})
	if err != nil {
		fmt.Fprintf(stderr, "daz sandbox: %v\n", err)
		return exitConfig
	}
	if err := srv.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "daz sandbox: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "sandbox: chat in your browser at %s/ (accounts: dazbot/dazbot, alice/alice, owner/owner)\n", srv.URL())
	<-ctx.Done()
	_ = srv.Close()
	return exitOK
}
