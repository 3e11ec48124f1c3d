package app

import (
	"context"
	"fmt"
	"log/slog"
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
	var chans []web.ChannelConfig
	for _, ch := range a.opts.Channels {
		name := strings.ToLower(ch.Name)
		c := web.ChannelConfig{Name: name, Public: true, Bot: ch.Username}
		if o, ok := a.opts.Web.Channels[name]; ok {
			c.Public = o.Public
		}
		chans = append(chans, c)
	}
	srv, err := web.New(web.Config{
		Addr: a.opts.Web.Addr, PublicURL: a.opts.Web.PublicURL, Channels: chans,
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
