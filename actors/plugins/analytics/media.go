package analytics

import (
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

func mediaKey(kind, id string) string { return kind + ":" + id }

func (p *plugin) loadLastMedia(ctx actor.Context) {
	p.kit.Query(ctx, LastMediaSQL, []any{p.kit.Deps.Channel}, func(res *messages.SQLResponse) {
		if res.Err != nil {
			p.kit.Log.Warn("reading the last media failed", slog.Any("error", res.Err))
			return
		}
		p.loadedNP = true
		rows := pluginkit.Rows(res)
		if len(rows) == 0 || p.lastID != "" {
			return // nothing yet, or a changeMedia already arrived
		}
		r := rows[0]
		p.lastID = mediaKey(r.String(1), r.String(0))
		if p.now == nil {
			p.now = &playing{id: r.String(0), kind: r.String(1), title: r.String(2), seconds: float64(r.Int(3)), startedAt: r.Time(4)}
		}
		p.publish()
	})
}

// mediaChanged records an item that started. The join burst repeats the
// current item (with a positive currentTime); it is recorded only once.
func (p *plugin) mediaChanged(ctx actor.Context, m *messages.ChangeMedia) {
	now := p.kit.Deps.Clock.Now()
	started := now
	if m.CurrentTime > 0 {
		started = now.Add(-time.Duration(m.CurrentTime * float64(time.Second)))
	}
	p.now = &playing{id: m.ID, kind: m.Type, title: m.Title, seconds: m.Seconds, startedAt: started}
	p.publish()
	key := mediaKey(m.Type, m.ID)
	if key == p.lastID && m.CurrentTime > 0 {
		return
	}
	p.lastID = key
	secs := int64(math.Max(0, math.Round(m.Seconds)))
	p.kit.Exec(ctx, RecordMediaSQL, []any{p.kit.Deps.Channel, m.ID, m.Title, m.Type, secs, started},
		func(res *messages.SQLResponse) {
			if res.Err != nil {
				p.kit.Log.Warn("recording media failed", slog.String("media", key), slog.Any("error", res.Err))
			}
		})
}

func (p *plugin) nowPlaying(ctx actor.Context, cmd *messages.Command) {
	if p.now == nil {
		p.kit.Reply(ctx, cmd, "Nothing is playing that I know of.")
		return
	}
	n := p.now
	msg := "Now playing: " + n.title
	if n.seconds > 0 {
		msg += " [" + hms(n.seconds) + "]"
	}
	msg += ", started " + pluginkit.Ago(p.kit.Deps.Clock.Now(), n.startedAt)
	// The link goes last, with nothing after it: CyTube's linkifier would
	// take trailing punctuation into the URL.
	if link := Link(n.kind, n.id); link != "" {
		msg += ": " + link
	} else {
		msg += "."
	}
	p.kit.Reply(ctx, cmd, msg)
}

func (p *plugin) history(ctx actor.Context, cmd *messages.Command) {
	p.kit.Query(ctx, HistorySQL, []any{p.kit.Deps.Channel, HistorySize}, func(res *messages.SQLResponse) {
		if res.Err != nil {
			p.unavailable(ctx, cmd, res.Err)
			return
		}
		rows := pluginkit.Rows(res)
		if len(rows) == 0 {
			p.kit.Reply(ctx, cmd, "No media recorded yet.")
			return
		}
		now := p.kit.Deps.Clock.Now()
		parts := make([]string, len(rows))
		for i, r := range rows {
			parts[i] = fmt.Sprintf("%s (%s)", r.String(0), pluginkit.Ago(now, r.Time(4)))
		}
		p.kit.Reply(ctx, cmd, "Recently played: "+strings.Join(parts, "; "))
	})
}

// hms renders seconds as H:MM:SS or M:SS.
func hms(secs float64) string {
	s := int64(math.Round(secs))
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Link is a shareable address for the media types that have one.
func Link(kind, id string) string {
	switch kind {
	case "yt":
		return "https://youtu.be/" + id
	case "vi":
		return "https://vimeo.com/" + id
	case "dm":
		return "https://dailymotion.com/video/" + id
	case "tw":
		return "https://twitch.tv/" + id
	case "sc", "fi", "cm", "rt", "hl":
		if strings.HasPrefix(id, "https://") || strings.HasPrefix(id, "http://") {
			return id
		}
	}
	return ""
}
