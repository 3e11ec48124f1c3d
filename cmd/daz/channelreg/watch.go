package channelreg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/daz-bot/daz/actors/clock"
)

// ListenerApplicationName is the application_name of the daemon's one
// LISTEN connection, so an operator (or a test) can find it in
// pg_stat_activity.
const ListenerApplicationName = "daz-listener"

// NotifyChannel is the PostgreSQL notification channel of daz_channels.
const NotifyChannel = "daz_channels"

const (
	reconnectBase = 500 * time.Millisecond
	reconnectMax  = 30 * time.Second
	// A connection that went away without a word (a cut network, a failed
	// over primary) leaves WaitForNotification blocked: after this long with
	// no notification the connection is asked for a round trip.
	probeEvery   = 30 * time.Second
	probeTimeout = 10 * time.Second
	closeTimeout = 5 * time.Second
	connectLimit = 10 * time.Second
	// The connection runs a handful of fixed statements; pgx's default
	// caches (512 entries each) would cost ~56 KB of heap for nothing.
	listenerCacheCapacity = 8
)

// Follow LISTENs, on one connection for all of them, to every notification
// channel in handlers until ctx ends, and calls a channel's handler after
// each of its notifications and once after every (re)connect, since a
// change may have been missed while it was away. One connection, because a
// daemon follows several tables (daz_channels, daz_cluster) and every
// connection costs PostgreSQL a backend and the daemon its buffers. Each
// handler runs on its own goroutine, never twice at once, so a slow one
// does not hold up another; notifications that arrive while it runs are
// folded into one more call, so a burst (a seed of many rows) costs at
// most two. When the connection drops, Follow reconnects on the
// clock.Backoff schedule. It returns nil when ctx ends, after the handlers
// have returned, and an error only for a database URL it cannot parse.
func Follow(ctx context.Context, databaseURL string, clk clock.Clock, logger *slog.Logger, handlers map[string]func()) error {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("listener: %w", err)
	}
	cfg.RuntimeParams["application_name"] = ListenerApplicationName
	cfg.StatementCacheCapacity = listenerCacheCapacity
	cfg.DescriptionCacheCapacity = listenerCacheCapacity
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectLimit
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	signals := make(map[string]func(), len(handlers))
	for name, onChange := range handlers {
		pending := make(chan struct{}, 1)
		signals[name] = func() {
			select {
			case pending <- struct{}{}:
			default: // a call is already due; it reads the table after this change
			}
		}
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-pending:
					onChange()
				}
			}
		})
	}

	failures := 0
	for {
		connected, err := listen(ctx, cfg, logger, failures, signals)
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			failures = 0
		}
		failures++
		delay := clock.Backoff(reconnectBase, reconnectMax, failures)
		logger.Warn("listener lost the database; reconnecting",
			slog.String("event", "listener_lost"), slog.Int("attempt", failures),
			slog.Duration("delay", delay), slog.Any("error", err))
		if !sleep(ctx, clk, delay) {
			return nil
		}
	}
}

// listen runs one connection's life: it reports whether LISTEN succeeded
// and why the connection ended.
func listen(ctx context.Context, cfg *pgx.ConnConfig, logger *slog.Logger, attempt int, signals map[string]func()) (bool, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	for name := range signals {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{name}.Sanitize()); err != nil {
			return false, fmt.Errorf("listen %s: %w", name, err)
		}
	}
	logger.Info("listener connected", slog.String("event", "listener_connected"), slog.Int("attempt", attempt))
	for _, signal := range signals {
		signal()
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, probeEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if signal, ok := signals[n.Channel]; ok {
				signal()
			}
			continue
		case ctx.Err() != nil:
			return true, nil
		case !pgconn.Timeout(err) && !errors.Is(err, context.DeadlineExceeded):
			return true, fmt.Errorf("wait for notification: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return true, nil
			}
			return true, fmt.Errorf("probe: %w", err)
		}
	}
}

// sleep waits d on clk; false when ctx ended first.
func sleep(ctx context.Context, clk clock.Clock, d time.Duration) bool {
	done := make(chan struct{})
	t := clk.AfterFunc(d, func() { close(done) })
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-done:
		return true
	}
}
