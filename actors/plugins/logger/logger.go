// Package logger writes a human-readable text log of each channel, one file
// per channel per UTC day (<LogDir>/<channel>/<YYYY-MM-DD>.log), next to the
// complete log in PostgreSQL. The join burst's replayed chat is written too,
// but only the lines past the last chat line the file has (found again in
// the newest file's tail after a restart): those were said while daz was
// away, and the files stay in server-time order without a line twice.
package logger

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// Name is the plugin's name in the registry and on the tree.
const Name = "logger"

// Props returns the text-log plugin of one channel; with an empty
// Deps.LogDir it registers nothing and writes nothing.
func Props(deps pluginkit.Deps) *actor.Props {
	return pluginkit.Props(deps, func() actor.Actor {
		p := &plugin{}
		p.kit = pluginkit.New(deps, Name, p.declare)
		return p
	})
}

func (p *plugin) declare() pluginkit.Registration {
	if p.kit.Deps.LogDir == "" {
		return pluginkit.Registration{}
	}
	return pluginkit.Registration{Events: []string{"chatMsg", "addUser", "userLeave", "changeMedia", "kick"}, Backlog: true}
}

type plugin struct {
	kit    *pluginkit.Kit
	file   *os.File
	day    string // the open file's day
	path   string
	lines  uint64
	errors uint64
	failed string // the path whose last write failed, to log a failure once
	mark   mark   // how far in server time the chat lines reached
}

type detail struct {
	File   string `json:"file,omitempty"`
	Lines  uint64 `json:"lines"`
	Errors uint64 `json:"write_errors"`
	Off    string `json:"off,omitempty"`
}

func (p *plugin) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		p.recover()
		p.publish()
	case *actor.Stopping, *actor.Restarting:
		p.close()
	case *messages.PluginNotify:
		if p.kit.Deps.LogDir == "" || m.Event == nil {
			return
		}
		p.notified(m)
	}
}

func (p *plugin) notified(m *messages.PluginNotify) {
	at, line := Format(m.Event, p.kit.Deps.Clock.Now())
	if line == "" {
		return
	}
	if _, chat := m.Event.Body.(*messages.ChatMsg); chat {
		if m.Event.Backlog {
			if !p.mark.backlog(m.Event.Seq, at, line) {
				return
			}
		} else {
			p.mark.live(at, line)
		}
	} else if m.Event.Backlog {
		return
	}
	p.write(at, line)
}

// recover finds where the text log stopped, so a replay after a restart
// does not write lines twice.
func (p *plugin) recover() {
	if p.kit.Deps.LogDir == "" {
		return
	}
	m, err := recoverMark(p.dir())
	if err != nil {
		p.kit.Log.Warn("cannot read where the text log stopped; a join replay may repeat lines",
			slog.String("path", p.dir()), slog.Any("error", err))
	}
	p.mark = m
}

func (p *plugin) dir() string {
	return filepath.Join(p.kit.Deps.LogDir, SafeName(p.kit.Deps.Channel))
}

func (p *plugin) publish() {
	d := detail{File: p.path, Lines: p.lines, Errors: p.errors}
	if p.kit.Deps.LogDir == "" {
		d.Off = "no log directory configured"
	}
	p.kit.SetDetail(d)
}

// Format renders one event as a log line (without a newline) and returns
// the time it happened; an event not worth a line gives "".
func Format(ev *messages.Event, now time.Time) (time.Time, string) {
	at := ev.Received
	if st, ok := ev.ServerTime(); ok {
		at = st
	}
	if at.IsZero() {
		at = now
	}
	at = at.UTC()
	var text string
	switch b := ev.Body.(type) {
	case *messages.ChatMsg:
		switch {
		case b.Username == "[server]":
			text = "-server- " + clean(b.Text)
		case isAction(b.Meta):
			text = "* " + clean(b.Username) + " " + clean(b.Text)
		default:
			text = "<" + clean(b.Username) + "> " + clean(b.Text)
		}
	case *messages.AddUser:
		text = fmt.Sprintf("--> %s joined (rank %s)", clean(b.Name), strconv.FormatFloat(b.Rank, 'f', -1, 64))
	case *messages.UserLeave:
		text = "<-- " + clean(b.Name) + " left"
	case *messages.ChangeMedia:
		text = fmt.Sprintf("=== Now playing: %s (%s:%s)", clean(b.Title), clean(b.Type), clean(b.ID))
	case *messages.Kick:
		text = "=== We were kicked: " + clean(b.Reason)
	default:
		return at, ""
	}
	return at, "[" + at.Format("15:04:05") + "] " + text
}

func isAction(meta json.RawMessage) bool {
	if len(meta) == 0 {
		return false
	}
	var m struct {
		Action bool `json:"action"`
	}
	return json.Unmarshal(meta, &m) == nil && m.Action
}

// clean keeps a line one line: control characters (a newline in a title or
// a hostile chat line) become spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// SafeName turns a channel name into a directory name that stays inside
// the log directory.
func SafeName(channel string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, channel)
	if out == "" {
		return "_"
	}
	return out
}

func (p *plugin) write(at time.Time, line string) {
	day := at.Format("2006-01-02")
	if p.file == nil || day != p.day {
		p.open(day)
	}
	if p.file == nil {
		p.errors++
		p.publish()
		return
	}
	if _, err := p.file.WriteString(line + "\n"); err != nil {
		p.errors++
		if p.failed != p.path {
			p.failed = p.path
			p.kit.Log.Error("writing the text log failed; will reopen it", slog.String("path", p.path), slog.Any("error", err))
		}
		p.close()
		p.publish()
		return
	}
	p.failed = ""
	p.lines++
	if p.lines%100 == 1 {
		p.publish()
	}
}

func (p *plugin) open(day string) {
	p.close()
	dir := p.dir()
	path := filepath.Join(dir, day+".log")
	p.path = path
	if err := os.MkdirAll(dir, 0o750); err != nil {
		p.openFailed(path, err)
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		p.openFailed(path, err)
		return
	}
	p.file, p.day = f, day
	p.publish()
}

func (p *plugin) openFailed(path string, err error) {
	if p.failed != path {
		p.failed = path
		p.kit.Log.Error("cannot open the text log", slog.String("path", path), slog.Any("error", err))
	}
}

func (p *plugin) close() {
	if p.file == nil {
		return
	}
	if err := p.file.Close(); err != nil {
		p.kit.Log.Warn("closing the text log failed", slog.String("path", p.path), slog.Any("error", err))
	}
	p.file, p.day = nil, ""
}
