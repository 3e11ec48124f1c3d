package app

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/ownership"
	"github.com/daz-bot/daz/cmd/daz/channelreg"
	"github.com/daz-bot/daz/messages"
)

// registryRetry is how soon a failed read of daz_channels is tried again
// when no notification comes to trigger it (the table may not exist yet
// while the writer waits to apply the migrations).
const registryRetry = 2 * time.Second

// followGroup starts the daemon's listener and returns a function that
// stops it. It follows two notification channels on one connection:
// daz_channels (the channels the group serves: seeded from the config, then
// re-read on every change) and daz_cluster (another daemon took or handed
// over a channel: the ownership actor runs a round at once instead of at
// its next tick).
func (a *App) followGroup(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	r := &registryFollower{a: a, ctx: ctx}
	url := a.opts.DatabaseURL.Reveal()
	own := a.sys.PIDOf(RootID + "/" + OwnershipName)
	wg.Go(func() {
		err := channelreg.Follow(ctx, url, a.opts.Clock, a.log, map[string]func(){
			channelreg.NotifyChannel: r.refresh,
			ownership.NotifyChannel:  func() { a.sys.Send(own, ownership.Wake{}) },
		})
		if err != nil {
			a.log.Error("channel registry and group changes not followed", slog.String("error", a.opts.DatabaseURL.Redact(err.Error())))
		}
	})
	return func() {
		cancel()
		r.stopRetry()
		wg.Wait()
	}
}

// registryFollower turns daz_channels into the app's channel set and tells
// the ownership actor; the listener calls refresh on one goroutine, a retry
// timer may call it too, hence the lock.
type registryFollower struct {
	a      *App
	ctx    context.Context
	mu     sync.Mutex
	seeded bool
	retry  clock.Timer
}

func (r *registryFollower) stopRetry() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retry != nil {
		r.retry.Stop()
	}
}

func (r *registryFollower) refresh() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		return
	}
	if err := r.read(); err != nil {
		r.a.log.Warn("reading daz_channels failed; retrying", slog.String("error", r.a.opts.DatabaseURL.Redact(err.Error())))
		if r.retry != nil {
			r.retry.Stop()
		}
		r.retry = r.a.opts.Clock.AfterFunc(registryRetry, r.refresh)
	}
}

func (r *registryFollower) read() error {
	a := r.a
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	store := channelreg.NewStore(a.retryPool)
	config := map[string]ChannelOptions{}
	for _, ch := range a.opts.Channels {
		config[strings.ToLower(ch.Name)] = ch
	}
	if !r.seeded {
		rows := make([]channelreg.Channel, 0, len(a.opts.Channels))
		for _, ch := range a.opts.Channels {
			rows = append(rows, channelreg.ConfigChannel(ch.Name, ch.ServerURL, ch.Username,
				ch.Password.IsSet(), ch.ChannelPassword.IsSet()))
		}
		if err := store.Seed(ctx, rows); err != nil {
			return err
		}
		r.seeded = true
	}
	list, err := store.List(ctx)
	if err != nil {
		return err
	}
	environ := a.opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	set := map[string]ChannelOptions{}
	for _, row := range list {
		if !row.Enabled {
			continue
		}
		conf, inConfig := config[row.Name]
		pw, err := channelreg.ResolveSecret(row.PasswordRef, environ, func() (string, bool) {
			return conf.Password.Reveal(), inConfig && conf.Password.IsSet()
		})
		if err == nil {
			var cpw string
			cpw, err = channelreg.ResolveSecret(row.ChannelPasswordRef, environ, func() (string, bool) {
				return conf.ChannelPassword.Reveal(), inConfig && conf.ChannelPassword.IsSet()
			})
			if err == nil {
				set[row.Name] = ChannelOptions{Name: row.Name, ServerURL: row.ServerURL, Username: row.Username,
					Password: Secret(pw), ChannelPassword: Secret(cpw)}
			}
		}
		if err != nil {
			// Left to a daemon that can resolve it: this one does not take it.
			a.log.Warn("channel skipped: its password cannot be resolved here", slog.String("channel", row.Name),
				slog.String("error", err.Error()))
		}
	}
	a.channelMu.Lock()
	a.channelSet = set
	a.channelMu.Unlock()
	a.showChannels(set)
	for name := range set {
		a.connCounters.get(name)
	}
	a.sys.Send(a.sys.PIDOf(RootID+"/"+OwnershipName), messages.DesiredChannels{Channels: a.desiredChannels()})
	return nil
}
