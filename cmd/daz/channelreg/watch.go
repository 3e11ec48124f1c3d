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

// ListenerApplicationName is the application_name of Watch's connection,
// so an operator (or a test) can find it in pg_stat_activity.
const ListenerApplicationName = "daz-channels-listener"

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
)

// Watch follows daz_channels until ctx ends: on its own connection it
// LISTENs for the table's notifications and calls onChange after each,
// and once after every (re)connect, since a change may have been missed
// while it was away. onChange runs on one goroutine, never twice at once;
// notifications that arrive while it runs are folded into one more call, so
// a burst (a seed of many rows) costs at most two. When the connection
// drops, Watch reconnects on the clock.Backoff schedule. It returns nil when
// ctx ends, after onChange has returned, and an error only for a database
// URL it cannot parse.
func Watch(ctx context.Context, databaseURL string, clk clock.Clock, logger *slog.Logger, onChange func()) error {
	return WatchNotify(ctx, databaseURL, NotifyChannel, ListenerApplicationName, clk, logger, onChange)
}

// WatchNotify is Watch for any notification channel, on a connection named
// appName: the ownership of channels (daz_cluster) is followed the same way.
func WatchNotify(ctx context.Context, databaseURL, notifyChannel, appName string, clk clock.Clock, logger *slog.Logger, onChange func()) error {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("%s listener: %w", notifyChannel, err)
	}
	cfg.RuntimeParams["application_name"] = appName
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectLimit
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	pending := make(chan struct{}, 1)
	signal := func() {
		select {
		case pending <- struct{}{}:
		default: // a call is already due; it reads the table after this change
		}
	}
	var wg sync.WaitGroup
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
	defer wg.Wait()

	failures := 0
	for {
		connected, err := listen(ctx, cfg, notifyChannel, logger, failures, signal)
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			failures = 0
		}
		failures++
		delay := clock.Backoff(reconnectBase, reconnectMax, failures)
		logger.Warn("channel listener lost the database; reconnecting",
			slog.String("event", "listener_lost"), slog.Int("attempt", failures),
			slog.Duration("delay", delay), slog.Any("error", err))
		if !sleep(ctx, clk, delay) {
			return nil
		}
	}
}

// listen runs one connection's life: it reports whether LISTEN succeeded
// and why the connection ended.
func listen(ctx context.Context, cfg *pgx.ConnConfig, notifyChannel string, logger *slog.Logger, attempt int, signal func()) (bool, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{notifyChannel}.Sanitize()); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	logger.Info("channel listener connected", slog.String("event", "listener_connected"), slog.Int("attempt", attempt))
	signal()
	for {
		wctx, cancel := context.WithTimeout(ctx, probeEvery)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			signal()
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
