package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"
)

// The charts are SVG drawn on the server: readable without JavaScript,
// nothing fetched from elsewhere, colours from the stylesheet. Every value
// written into them is a number or escaped text.

// hourChart draws messages per hour as bars, oldest on the left, labelled
// in loc.
func hourChart(hours []HourCount, loc *time.Location) template.HTML {
	if loc == nil {
		loc = time.UTC
	}
	const w, h, bw = 672, 120, 4
	var peak int64 = 1
	var total int64
	for _, c := range hours {
		peak = max(peak, c.Messages)
		total += c.Messages
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h+16,
		html.EscapeString(fmt.Sprintf("Messages per hour over the last 7 days (%s): %d in all, at most %d in one hour", loc, total, peak)))
	for i, c := range hours {
		bh := float64(c.Messages) / float64(peak) * h
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%.1f" width="%d" height="%.1f"><title>%s: %d</title></rect>`,
			i*bw, h-bh, bw-1, bh, html.EscapeString(c.Hour.In(loc).Format("Mon 2006-01-02 15:04 MST")), c.Messages)
		if lt := c.Hour.In(loc); lt.Hour() == 0 {
			fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d">%s</text>`, i*bw+2, h+13, lt.Format("Mon 02"))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var weekdays = [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// heatmapChart draws weekday rows by hour columns of zone; darker is
// busier.
func heatmapChart(cells [7][24]int64, zone string) template.HTML {
	const cw, ch, left, top = 24, 18, 36, 14
	var peak int64 = 1
	for _, row := range cells {
		for _, n := range row {
			peak = max(peak, n)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart heatmap" viewBox="0 0 %d %d" role="img" aria-label="Messages by weekday and hour over the last 30 days (%s)">`,
		left+24*cw, top+7*ch, html.EscapeString(zone))
	for hr := 0; hr < 24; hr += 3 {
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="10">%02d</text>`, left+hr*cw+4, hr)
	}
	for d, row := range cells {
		fmt.Fprintf(&b, `<text class="axis" x="0" y="%d">%s</text>`, top+d*ch+13, weekdays[d])
		for hr, n := range row {
			op := 0.06 + 0.94*float64(n)/float64(peak)
			fmt.Fprintf(&b, `<rect class="cell" x="%d" y="%d" width="%d" height="%d" fill-opacity="%.2f"><title>%s %02d:00 %s: %d</title></rect>`,
				left+hr*cw, top+d*ch, cw-2, ch-2, op, weekdays[d], hr, html.EscapeString(zone), n)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// dayChart draws a user's lines per day.
func dayChart(days []DayCount) template.HTML {
	if len(days) == 0 {
		return ""
	}
	const h, bw = 80, 7
	var peak int64 = 1
	for _, d := range days {
		peak = max(peak, d.Messages)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="Messages per day">`, len(days)*bw, h)
	for i, d := range days {
		bh := float64(d.Messages) / float64(peak) * h
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%.1f" width="%d" height="%.1f"><title>%s: %d</title></rect>`,
			i*bw, h-bh, bw-1, bh, html.EscapeString(d.Day), d.Messages)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
