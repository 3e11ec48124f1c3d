package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"github.com/daz-bot/daz/actors/logmaint"
	"github.com/daz-bot/daz/actors/sqlwriter"

	"github.com/daz-bot/daz/actors/eventfilter"
	"github.com/daz-bot/daz/actors/ownership"
	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/cmd/daz/channelreg"
)

// configKey is one public configuration key. Its environment name is
// derived (DAZ_ + upper-cased key with dots as underscores) and is part of
// the contract with scripts outside the repository.
type configKey struct {
	Key     string
	Default string
	Help    string
}

// configKeys lists every scalar key; cytube.channels and cytube.servers
// (lists) are file-only.
// A default that a package owns is taken from it (retry: supervision, writer:
// sqlwriter, the rest of the daemon: app), so the code has each default once
// and the README table is checked against this list.
var configKeys = defaultConfigKeys()

func defaultConfigKeys() []configKey {
	retry, writer, limits := app.DefaultRetry(), app.DefaultWriter(), app.DefaultServerLimits()
	return []configKey{
		{"cytube.server_url", "https://cytu.be", "CyTube server base URL"},
		{"cytube.channel", "", "channel to join (required unless cytube.channels is set)"},
		{"cytube.username", "", "bot account; empty: stay anonymous"},
		{"cytube.password", "", "bot password; empty with a username: guest login"},
		{"cytube.channel_password", "", "password of a password-protected channel"},
		{"cytube.retry.base", durText(retry.Base), "first retry delay"},
		{"cytube.retry.max_delay", durText(retry.MaxDelay), "longest retry delay"},
		{"cytube.retry.attempts", strconv.Itoa(retry.Attempts), "failed attempts before a cooldown"},
		{"cytube.retry.cooldown", durText(retry.Cooldown), "pause after a round of failed attempts"},
		{"cytube.max_connections_per_server", strconv.Itoa(limits.MaxConnections), "sockets this daemon holds to one server at most; further channels wait for a slot"},
		{"cytube.connect_burst", strconv.Itoa(limits.ConnectBurst), "connects to one server at once, before cytube.connect_interval paces them"},
		{"cytube.connect_interval", durText(limits.ConnectInterval), "then one connect to one server per interval"},
		{"cytube.local_addr", "", "source IP of every connection to CyTube; empty: the system's choice"},
		{"database.url", "", "PostgreSQL URL (required)"},
		{"debug.addr", "127.0.0.1:6060", "debug endpoint address; non-loopback needs debug.token"},
		{"debug.token", "", "bearer token for the debug endpoint"},
		{"web.addr", app.DefaultWebAddr, "web pages and API address; empty disables the web server"},
		{"web.public_url", "", "base URL of the links daz hands out (sign-in links); http://web.addr when empty"},
		{"commands.prefix", app.DefaultCommandPrefix, "command prefix"},
		{"commands.user_rate_limit", strconv.Itoa(eventfilter.DefaultUserRateLimit), "commands one user may run per minute (beyond it: one 'slow down' answer)"},
		{"writer.batch_size", strconv.Itoa(writer.BatchSize), "chat-log rows per batch"},
		{"writer.flush_interval", durText(writer.FlushInterval), "longest wait before a partial batch is written"},
		{"writer.max_buffered", strconv.Itoa(writer.MaxBuffered), "events kept in memory while the database is away before spilling to disk"},
		{"writer.max_buffered_bytes", strconv.FormatInt(writer.MaxBufferedBytes, 10), "bytes of events kept in memory while the database is away or behind before spilling to disk"},
		{"writer.memory_limit", "auto", "soft memory limit of the process in bytes; auto: 1.5 × writer.max_buffered_bytes unless GOMEMLIMIT is set; off: none"},
		{"data.dir", app.DefaultDataDir, "directory for the spill file and text logs"},
		{"shutdown.timeout", durText(app.DefaultShutdownTimeout), "how long a graceful shutdown may take"},
		{"node.name", "", "this daemon's name in a group sharing one database; empty: host name and process id"},
		{"cluster.failover_timeout", durText(ownership.DefaultFailoverTimeout), "how long a dead daemon's channels may stay dark before others run them"},
		{"log.retention", "", "drop the chat log's months older than this (e.g. 400d, at least 31d); empty keeps everything"},
		{"log.format", "auto", "json, text, or auto (text on a terminal)"},
		{"log.level", "info", "debug, info, warn or error"},
	}
}

// durText writes a duration the way an operator would: 5m, not 5m0s.
func durText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// envName is the environment variable of a key.
func envName(key string) string {
	return "DAZ_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(key))
}

// configError names the offending key so the operator can fix it.
type configError struct {
	Key string
	Msg string
}

func (e *configError) Error() string {
	return fmt.Sprintf("config %s (env %s): %s", e.Key, envName(e.Key), e.Msg)
}

// registerConfigFlags adds -config and one flag per key to fs.
func registerConfigFlags(fs *flag.FlagSet) *string {
	path := fs.String("config", "", "YAML config file (then environment, then flags)")
	for _, k := range configKeys {
		fs.String(k.Key, "", fmt.Sprintf("%s (env %s, default %q)", k.Help, envName(k.Key), k.Default))
	}
	return path
}

type loadedConfig struct {
	Options   app.Options
	LogFormat string
	LogLevel  string
	// ServerURL is cytube.server_url, the server of a channel that names none.
	ServerURL string
}

// loadConfig merges defaults, the YAML file, the environment and the flags
// that were set, in that order, and validates the result.
func loadConfig(fs *flag.FlagSet, configPath string, environ []string, requireChannel bool) (loadedConfig, error) {
	k := koanf.New(".")
	for _, ck := range configKeys {
		if err := k.Set(ck.Key, ck.Default); err != nil {
			return loadedConfig{}, fmt.Errorf("config defaults: %w", err)
		}
	}
	if configPath != "" {
		if err := k.Load(file.Provider(configPath), yaml.Parser()); err != nil {
			return loadedConfig{}, &configError{Key: "config", Msg: fmt.Sprintf("reading %s: %v", configPath, err)}
		}
	}
	byEnv := map[string]string{}
	for _, ck := range configKeys {
		byEnv[envName(ck.Key)] = ck.Key
	}
	err := k.Load(env.Provider(".", env.Opt{
		Prefix:      "DAZ_",
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, value string) (string, any) {
			// Only known names count: an unknown DAZ_ variable must not be
			// split on underscores into a surprising nested key.
			return byEnv[name], value
		},
	}), nil)
	if err != nil {
		return loadedConfig{}, fmt.Errorf("config environment: %w", err)
	}
	var setErr error
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		if err := k.Set(f.Name, f.Value.String()); err != nil && setErr == nil {
			setErr = fmt.Errorf("config flag -%s: %w", f.Name, err)
		}
	})
	if setErr != nil {
		return loadedConfig{}, setErr
	}
	return buildOptions(k, requireChannel)
}

// memoryLimit reads writer.memory_limit: auto derives it from the writer's
// budget, unless GOMEMLIMIT (which the Go runtime already applied) says
// otherwise; off leaves the runtime alone.
func memoryLimit(v string, budget int64, errs *[]error) int64 {
	switch v = strings.TrimSpace(v); v {
	case "off":
		return 0
	case "auto", "":
		if os.Getenv("GOMEMLIMIT") != "" {
			return 0
		}
		return sqlwriter.SoftMemoryLimit(budget)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		*errs = append(*errs, &configError{Key: "writer.memory_limit", Msg: fmt.Sprintf("%q is not auto, off or a positive number of bytes", v)})
		return 0
	}
	return n
}

// retention reads log.retention: empty keeps everything; otherwise a Go
// duration or a whole number of days ("400d"), at least a month.
func retention(v string, errs *[]error) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(v, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(v)
	}
	if err != nil || d < logmaint.MinRetention {
		*errs = append(*errs, &configError{Key: "log.retention", Msg: fmt.Sprintf("%q is not a duration of at least a month like 400d or 9600h (empty keeps everything)", v)})
		return 0
	}
	return d
}

func buildOptions(k *koanf.Koanf, requireChannel bool) (loadedConfig, error) {
	var errs []error
	dur := func(key string) time.Duration {
		d, err := time.ParseDuration(k.String(key))
		if err != nil || d <= 0 {
			errs = append(errs, &configError{Key: key, Msg: fmt.Sprintf("%q is not a positive duration like 2s or 5m", k.String(key))})
		}
		return d
	}
	num := func(key string) int {
		var n int
		if _, err := fmt.Sscanf(k.String(key), "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != strings.TrimSpace(k.String(key)) {
			errs = append(errs, &configError{Key: key, Msg: fmt.Sprintf("%q is not a positive whole number", k.String(key))})
		}
		return n
	}
	opts := app.Options{
		DatabaseURL:   app.Secret(k.String("database.url")),
		DebugAddr:     k.String("debug.addr"),
		DebugToken:    app.Secret(k.String("debug.token")),
		CommandPrefix: k.String("commands.prefix"),
		UserRateLimit: num("commands.user_rate_limit"),
		Retry: app.RetryOptions{
			Base: dur("cytube.retry.base"), MaxDelay: dur("cytube.retry.max_delay"),
			Attempts: num("cytube.retry.attempts"), Cooldown: dur("cytube.retry.cooldown"),
		},
		Writer: app.WriterOptions{
			BatchSize: num("writer.batch_size"), FlushInterval: dur("writer.flush_interval"),
			MaxBuffered: num("writer.max_buffered"), MaxBufferedBytes: int64(num("writer.max_buffered_bytes")),
		},
		DataDir:         k.String("data.dir"),
		ShutdownTimeout: dur("shutdown.timeout"),
		ServerLimits: app.ServerLimitOptions{
			MaxConnections:  num("cytube.max_connections_per_server"),
			ConnectBurst:    num("cytube.connect_burst"),
			ConnectInterval: dur("cytube.connect_interval"),
		},
		LocalAddr: strings.TrimSpace(k.String("cytube.local_addr")),
		Cluster: app.ClusterOptions{
			NodeName: k.String("node.name"), FailoverTimeout: dur("cluster.failover_timeout"),
		},
	}
	if opts.Cluster.NodeName == "" {
		opts.Cluster.NodeName = app.DefaultNodeName()
	}
	if servers, err := serverList(k); err != nil {
		errs = append(errs, err)
	} else {
		opts.Servers = servers
	}
	opts.LogRetention = retention(k.String("log.retention"), &errs)
	opts.MemoryLimit = memoryLimit(k.String("writer.memory_limit"), opts.Writer.MaxBufferedBytes, &errs)
	opts.Web = app.WebOptions{Addr: k.String("web.addr"), PublicURL: k.String("web.public_url")}
	if a := opts.Web.Addr; a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, &configError{Key: "web.addr", Msg: fmt.Sprintf("%q is not host:port (empty disables the web server)", a)})
		}
	}
	if u := opts.Web.PublicURL; u != "" {
		if err := checkServerURL("web.public_url", u); err != nil {
			errs = append(errs, err)
		}
	}
	defaultServer := k.String("cytube.server_url")
	if err := checkServerURL("cytube.server_url", defaultServer); err != nil {
		errs = append(errs, err)
	}
	if name := k.String("cytube.channel"); name != "" {
		opts.Channels = append(opts.Channels, app.ChannelOptions{
			Name: name, ServerURL: defaultServer,
			Username: k.String("cytube.username"), Password: app.Secret(k.String("cytube.password")),
			ChannelPassword: app.Secret(k.String("cytube.channel_password")),
		})
	}
	list, err := channelList(k, defaultServer)
	if err != nil {
		errs = append(errs, err)
	}
	opts.Channels = append(opts.Channels, list...)
	if len(opts.Channels) == 0 && requireChannel {
		errs = append(errs, &configError{Key: "cytube.channel", Msg: "required: name the channel to join (or list cytube.channels in the config file)"})
	}
	seen := map[string]bool{}
	for _, c := range opts.Channels {
		if !channelreg.ValidName(c.Name) {
			errs = append(errs, &configError{Key: "cytube.channel", Msg: fmt.Sprintf("%q is not a valid CyTube channel name (1-30 of a-z, A-Z, 0-9, - and _)", c.Name)})
		}
		lower := strings.ToLower(c.Name)
		if seen[lower] {
			errs = append(errs, &configError{Key: "cytube.channels", Msg: fmt.Sprintf("channel %q is listed twice", c.Name)})
		}
		seen[lower] = true
	}
	if webChannels, err := webChannelList(k, opts.Channels); err != nil {
		errs = append(errs, err)
	} else {
		opts.Web.Channels = webChannels
	}
	if opts.DatabaseURL == "" {
		errs = append(errs, &configError{Key: "database.url", Msg: "required: a PostgreSQL URL such as postgres://user@127.0.0.1:5432/daz"})
	} else if u, err := url.Parse(opts.DatabaseURL.Reveal()); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// Never echo the value: it usually carries a password.
		errs = append(errs, &configError{Key: "database.url", Msg: "not a postgres:// URL"})
	}
	if opts.CommandPrefix == "" || strings.ContainsAny(opts.CommandPrefix, " \t\n") {
		errs = append(errs, &configError{Key: "commands.prefix", Msg: "must be non-empty and contain no whitespace"})
	}
	if opts.DebugAddr == "" {
		errs = append(errs, &configError{Key: "debug.addr", Msg: "required (use 127.0.0.1:6060 for the local default)"})
	}
	format, level := k.String("log.format"), k.String("log.level")
	if format != "auto" && format != "json" && format != "text" {
		errs = append(errs, &configError{Key: "log.format", Msg: fmt.Sprintf("%q is not json, text or auto", format)})
	}
	if _, ok := logLevels[level]; !ok {
		errs = append(errs, &configError{Key: "log.level", Msg: fmt.Sprintf("%q is not debug, info, warn or error", level)})
	}
	if len(errs) > 0 {
		return loadedConfig{}, errors.Join(errs...)
	}
	// Combinations (max_delay below base, ...) are the app's to judge; the
	// same check runs in app.New, so no actor ever sees them.
	if err := opts.Validate(); err != nil {
		var ce *app.ConfigError
		if errors.As(err, &ce) && ce.Key != "" {
			return loadedConfig{}, &configError{Key: ce.Key, Msg: ce.Err.Error()}
		}
		return loadedConfig{}, err
	}
	return loadedConfig{Options: opts, LogFormat: format, LogLevel: level, ServerURL: defaultServer}, nil
}

func checkServerURL(key, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &configError{Key: key, Msg: fmt.Sprintf("%q is not an http(s) URL", raw)}
	}
	return nil
}

// channelList reads cytube.channels: a list of entries with name and
// optional server_url, username, password, channel_password.
func channelList(k *koanf.Koanf, defaultServer string) ([]app.ChannelOptions, error) {
	if !k.Exists("cytube.channels") {
		return nil, nil
	}
	var entries []struct {
		Name            string `koanf:"name"`
		ServerURL       string `koanf:"server_url"`
		Username        string `koanf:"username"`
		Password        string `koanf:"password"`
		ChannelPassword string `koanf:"channel_password"`
	}
	if err := k.Unmarshal("cytube.channels", &entries); err != nil {
		return nil, &configError{Key: "cytube.channels", Msg: fmt.Sprintf("must be a list of {name, server_url, username, password, channel_password}: %v", err)}
	}
	out := make([]app.ChannelOptions, 0, len(entries))
	for i, e := range entries {
		server := e.ServerURL
		if server == "" {
			server = defaultServer
		}
		key := fmt.Sprintf("cytube.channels[%d].server_url", i)
		if err := checkServerURL(key, server); err != nil {
			return nil, err
		}
		if e.Name == "" {
			return nil, &configError{Key: fmt.Sprintf("cytube.channels[%d].name", i), Msg: "required"}
		}
		out = append(out, app.ChannelOptions{
			Name: e.Name, ServerURL: server, Username: e.Username,
			Password: app.Secret(e.Password), ChannelPassword: app.Secret(e.ChannelPassword),
		})
	}
	return out, nil
}

// serverList reads cytube.servers (file only): per-server limits, a list
// of {url, max_connections, connect_burst, connect_interval}; a field left
// out keeps the default.
func serverList(k *koanf.Koanf) ([]app.ServerOptions, error) {
	if !k.Exists("cytube.servers") {
		return nil, nil
	}
	var entries []struct {
		URL             string `koanf:"url"`
		MaxConnections  string `koanf:"max_connections"`
		ConnectBurst    string `koanf:"connect_burst"`
		ConnectInterval string `koanf:"connect_interval"`
	}
	if err := k.Unmarshal("cytube.servers", &entries); err != nil {
		return nil, &configError{Key: "cytube.servers", Msg: fmt.Sprintf("must be a list of {url, max_connections, connect_burst, connect_interval}: %v", err)}
	}
	out := make([]app.ServerOptions, 0, len(entries))
	for i, e := range entries {
		prefix := fmt.Sprintf("cytube.servers[%d].", i)
		if err := checkServerURL(prefix+"url", e.URL); err != nil {
			return nil, err
		}
		s := app.ServerOptions{URL: e.URL}
		for _, f := range []struct {
			key, raw string
			into     *int
		}{{"max_connections", e.MaxConnections, &s.MaxConnections}, {"connect_burst", e.ConnectBurst, &s.ConnectBurst}} {
			if f.raw == "" {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSpace(f.raw))
			if err != nil || n <= 0 {
				return nil, &configError{Key: prefix + f.key, Msg: fmt.Sprintf("%q is not a positive whole number", f.raw)}
			}
			*f.into = n
		}
		if e.ConnectInterval != "" {
			d, err := time.ParseDuration(e.ConnectInterval)
			if err != nil || d <= 0 {
				return nil, &configError{Key: prefix + "connect_interval", Msg: fmt.Sprintf("%q is not a positive duration like 10s", e.ConnectInterval)}
			}
			s.ConnectInterval = d
		}
		out = append(out, s)
	}
	return out, nil
}

// webChannelList reads web.channels (file only): a map from channel name to
// {public: bool}. A name that is not a configured channel is an error, since
// a typo would otherwise leave a private channel public.
func webChannelList(k *koanf.Koanf, chans []app.ChannelOptions) (map[string]app.WebChannelOptions, error) {
	if !k.Exists("web.channels") {
		return nil, nil
	}
	known := map[string]bool{}
	for _, c := range chans {
		known[strings.ToLower(c.Name)] = true
	}
	out := map[string]app.WebChannelOptions{}
	for _, name := range k.MapKeys("web.channels") {
		key := "web.channels." + name
		if !known[strings.ToLower(name)] {
			return nil, &configError{Key: key, Msg: "names no configured channel"}
		}
		public := true
		if k.Exists(key + ".public") {
			v, err := strconv.ParseBool(k.String(key + ".public"))
			if err != nil {
				return nil, &configError{Key: key + ".public", Msg: fmt.Sprintf("%q is not true or false", k.String(key+".public"))}
			}
			public = v
		}
		out[strings.ToLower(name)] = app.WebChannelOptions{Public: public}
	}
	return out, nil
}

// configReference lists every key for `daz -h` and the README.
func configReference() string {
	keys := configKeys
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-26s %-30s default %q\n", k.Key, envName(k.Key), k.Default)
	}
	return b.String()
}
