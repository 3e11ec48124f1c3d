// Command daz is a CyTube chat-bot daemon.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(run()) }

// run owns the process: signals are handled here and nowhere else. SIGINT
// and SIGTERM cancel the context, which starts a graceful shutdown.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runCommand(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
}
