package web

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
)

func renderString(t *testing.T, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var tagPattern = regexp.MustCompile(`</?([a-zA-Z]+)`)

// The pieces of the pages that carry chat text or labels escape it: the
// only markup that comes out is their own.
func TestComponentsEscapeText(t *testing.T) {
	t.Parallel()
	hostile := `<script>alert(1)</script> "quoted" & 'single'`
	zone := time.FixedZone(`<b>zone</b>`, 3600)
	page := basePage{Loc: zone}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		c    templ.Component
		want []string
		tags []string // the only elements allowed
	}{
		{"highlight", highlighted(hostile, "alert"), []string{"&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt; &#34;quoted&#34; &amp; &#39;single&#39;"},
			[]string{"mark"}},
		{"highlight several words, longest first", highlighted("<b>Bold</b> bo", `bold -b "bo"`),
			[]string{"&lt;b&gt;<mark>Bold</mark>&lt;/b&gt; <mark>bo</mark>"}, []string{"mark"}},
		{"highlight no query", highlighted(hostile, " or -x"), []string{"&lt;script&gt;alert(1)"}, nil},
		// Lower-casing İ changes its length: nothing is marked then.
		{"highlight unmarkable", highlighted("İ <i>alert</i>", "alert"), []string{"İ &lt;i&gt;alert&lt;/i&gt;"}, nil},
		{"time", page.Time(at), []string{`<time datetime="2026-12-01T10:00:00Z">2026-12-01 11:00 &lt;b&gt;zone&lt;/b&gt;</time>`}, []string{"time"}},
		{"no time", page.Time(time.Time{}), []string{"never"}, nil},
		{"hours", barChart(hourBars([]HourCount{{Hour: at.Add(-11 * time.Hour), Messages: 3}, {Hour: at, Messages: 6}}, zone)),
			[]string{`aria-label="Messages per hour over the last 7 days (&lt;b&gt;zone&lt;/b&gt;): 9 in all, at most 6 in one hour"`,
				`<rect class="bar" x="4" y="0.0" width="3" height="120.0"><title>Tue 2026-12-01 11:00 &lt;b&gt;zone&lt;/b&gt;: 6</title></rect>`,
				`<text class="axis" x="2" y="133">Tue 01</text>`},
			[]string{"svg", "rect", "title", "text"}},
		{"days", barChart(dayBars([]DayCount{{Day: hostile, Messages: 2}, {Day: "2026-12-01", Messages: 1}})),
			[]string{`<rect class="bar" x="0" y="0.0" width="6" height="80.0"><title>&lt;script&gt;alert(1)&lt;/script&gt;`,
				`<rect class="bar" x="7" y="40.0" width="6" height="40.0"><title>2026-12-01: 1</title>`},
			[]string{"svg", "rect", "title"}},
		{"heatmap", heatmapChart(heatmapOf([7][24]int64{1: {10: 4}}, hostile)),
			[]string{`aria-label="Messages by weekday and hour over the last 30 days (&lt;script&gt;alert(1)&lt;/script&gt;`,
				`<rect class="cell" x="276" y="32" width="22" height="16" fill-opacity="1.00"><title>Tue 10:00 &lt;script&gt;`,
				`<text class="axis" x="0" y="45">Tue</text>`},
			[]string{"svg", "rect", "title", "text"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := renderString(t, tc.c)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %s\nin %s", w, out)
				}
			}
			for _, m := range tagPattern.FindAllStringSubmatch(out, -1) {
				if !strings.Contains(" "+strings.Join(tc.tags, " ")+" ", " "+m[1]+" ") {
					t.Errorf("element %s in %s", m[1], out)
				}
			}
		})
	}
}
