package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
	"github.com/daz-bot/daz/cmd/daz/web"
)

// WebOptions configures the web server (pages and the HTTP API).
type WebOptions struct {
	Addr      string // empty: no web server
	PublicURL string // base of the links daz hands out; http://Addr when empty
	// Channels holds per-channel settings by lower-case name; a channel
	// that is not listed is public.
	Channels map[string]WebChannelOptions
}

// WebChannelOptions is one channel's web setting.
type WebChannelOptions struct {
	Public bool
}

// DefaultWebAddr is where the web server listens unless configured.
const DefaultWebAddr = web.DefaultAddr

// WebAddr is the web server's bound address; empty when it is off. Valid
// once Started is closed.
func (a *App) WebAddr() string {
	if a.web == nil {
		return ""
	}
	return a.web.Addr()
}

// WebURL is the base URL of the web pages; empty when the server is off.
func (a *App) WebURL() string {
	if a.web == nil {
		return ""
	}
	return a.web.URL()
}

// startWeb opens the web's own read pool and starts listening. The pool
// connects lazily, so a database that is down now only makes the history
// pages say so; the live view works from the hub.
func (a *App) startWeb() error {
	if a.opts.Web.Addr == "" {
		return nil
	}
	pool, err := web.OpenPool(context.Background(), a.opts.DatabaseURL.Reveal(), 4, web.DefaultStatementTimeout)
	if err != nil {
		return &ConfigError{Key: "database.url", Err: fmt.Errorf("%s", a.opts.DatabaseURL.Redact(err.Error()))}
	}
	srv, err := web.New(web.Config{
		Addr: a.opts.Web.Addr, PublicURL: a.opts.Web.PublicURL, Channels: a.webChannels(a.opts.Channels),
		Store: web.NewStore(pool, a.opts.Clock.Now), Hub: a.webHub, Logger: a.log,
		Now: a.opts.Clock.Now, Version: a.opts.Version,
	})
	if err == nil {
		err = srv.Listen()
	}
	if err != nil {
		pool.Close()
		return err
	}
	a.web, a.webPool = srv, pool
	go func() {
		if err := srv.Serve(); err != nil {
			a.log.Error("web server stopped", slog.Any("error", err))
		}
	}()
	a.log.Info("web server listening", slog.String("url", srv.URL()+"/"))
	return nil
}

// webChannels is what the pages show for a set of channels: the group's,
// since every daemon reads the one shared log (the live view has events
// only where this daemon runs the channel).
func (a *App) webChannels(chs []ChannelOptions) []web.ChannelConfig {
	out := make([]web.ChannelConfig, 0, len(chs))
	for _, ch := range chs {
		name := strings.ToLower(ch.Name)
		c := web.ChannelConfig{Name: name, Public: true, Bot: ch.Username}
		if o, ok := a.opts.Web.Channels[name]; ok {
			c.Public = o.Public
		}
		out = append(out, c)
	}
	return out
}

// showChannels tells the web server the group's channels after the
// registry changed: the config's first, in their order, then the others
// by name.
func (a *App) showChannels(set map[string]ChannelOptions) {
	if a.web == nil {
		return
	}
	chs := make([]ChannelOptions, 0, len(set))
	listed := map[string]bool{}
	for _, ch := range a.opts.Channels {
		name := strings.ToLower(ch.Name)
		if c, ok := set[name]; ok && !listed[name] {
			chs = append(chs, c)
			listed[name] = true
		}
	}
	var rest []string
	for name := range set {
		if !listed[name] {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	for _, name := range rest {
		chs = append(chs, set[name])
	}
	a.web.SetChannels(a.webChannels(chs))
}

// stopWeb ends the live streams, lets running requests finish (briefly)
// and closes the read pool.
func (a *App) stopWeb() {
	if a.web == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	_ = a.web.Shutdown(ctx)
	cancel()
	a.webPool.Close()
}

// newWebHub is the hub the channels' web plugins feed; nil when the web
// server is off, which leaves those plugins idle.
func newWebHub(o WebOptions) *hub.Hub {
	if o.Addr == "" {
		return nil
	}
	return hub.New()
}
