package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	// The zone database in the binary: ?tz= must not depend on the host
	// having /usr/share/zoneinfo (containers often do not).
	_ "time/tzdata"
)

// tzCookie remembers the viewer's zone; the page script sets it from the
// browser, so from the second page on days and the heatmap follow the
// viewer's calendar without any ?tz=.
const tzCookie = "daz_tz"

// parseZone accepts an IANA zone name such as Europe/Berlin, or UTC.
func parseZone(name string) (*time.Location, bool) {
	if name == "" || len(name) > 64 || name == "Local" {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}

// zone is the time zone a request is answered in: ?tz= (a bad one is a 400,
// already written, and ok is false), else the tz cookie when it names a
// zone, else UTC. explicit says it came from the query, so links carry it.
func (s *Server) zone(w http.ResponseWriter, r *http.Request) (loc *time.Location, explicit, ok bool) {
	if raw, given := r.URL.Query()["tz"]; given {
		loc, valid := parseZone(raw[0])
		if !valid {
			s.badRequest(w, r, "tz must be a time zone name such as Europe/Berlin or UTC.")
			return nil, false, false
		}
		return loc, true, true
	}
	if c, err := r.Cookie(tzCookie); err == nil {
		if name, err := url.QueryUnescape(c.Value); err == nil {
			if loc, valid := parseZone(name); valid {
				return loc, false, true
			}
		}
	}
	return time.UTC, false, true
}

// datetime is t for a <time> element's datetime attribute: UTC, to the
// second.
func datetime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// clock is t as a reader of the page sees it without JavaScript: to the
// minute, in the page's zone, which it names.
func (b basePage) clock(t time.Time) string { return t.In(b.loc()).Format("2006-01-02 15:04 MST") }

// Day is the date of t in the page's zone.
func (b basePage) Day(t time.Time) string { return t.In(b.loc()).Format(time.DateOnly) }

// LogLink is the permalink of a line: its day's log in the page's zone,
// which the link names unless it is UTC, so it finds the line wherever it
// is opened.
func (b basePage) LogLink(t time.Time, id int64) string {
	v := url.Values{"date": {b.Day(t)}}
	if b.loc() != time.UTC {
		v.Set("tz", b.loc().String())
	}
	return b.channelPath("/log?" + v.Encode() + "#" + strconv.FormatInt(id, 10))
}

func (b basePage) loc() *time.Location {
	if b.Loc == nil {
		return time.UTC
	}
	return b.Loc
}

// TZName is the page's zone for labels.
func (b basePage) TZName() string { return strings.ReplaceAll(b.loc().String(), "_", " ") }
