package web

import (
	"fmt"
	"strconv"
	"time"
)

// The charts are SVG drawn on the server: readable without JavaScript,
// nothing fetched from elsewhere, colours from the stylesheet. The
// functions here work out the geometry and the labels; charts.templ writes
// them, escaped, so no chart is built as a string of markup.

// barChartData is a bar chart: one bar per hour or day, each with its
// count as a tooltip, and optionally a label under it.
type barChartData struct {
	ViewBox, Label string
	AxisY          int
	Bars           []chartBar
}

type chartBar struct {
	X, Width  int
	Y, Height string // one decimal
	Title     string
	Axis      string // the label under the bar, if any
}

func bar(x, width int, top, height float64, title string) chartBar {
	return chartBar{X: x, Width: width, Y: strconv.FormatFloat(top, 'f', 1, 64),
		Height: strconv.FormatFloat(height, 'f', 1, 64), Title: title}
}

// hourBars lays out messages per hour as bars, oldest on the left,
// labelled in loc.
func hourBars(hours []HourCount, loc *time.Location) barChartData {
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
	c := barChartData{
		ViewBox: fmt.Sprintf("0 0 %d %d", w, h+16),
		Label:   fmt.Sprintf("Messages per hour over the last 7 days (%s): %d in all, at most %d in one hour", loc, total, peak),
		AxisY:   h + 13,
		Bars:    make([]chartBar, 0, len(hours)),
	}
	for i, n := range hours {
		bh := float64(n.Messages) / float64(peak) * h
		lt := n.Hour.In(loc)
		b := bar(i*bw, bw-1, h-bh, bh, fmt.Sprintf("%s: %d", lt.Format("Mon 2006-01-02 15:04 MST"), n.Messages))
		if lt.Hour() == 0 {
			b.Axis = lt.Format("Mon 02")
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// dayBars lays out a user's lines per day.
func dayBars(days []DayCount) barChartData {
	const h, bw = 80, 7
	var peak int64 = 1
	for _, d := range days {
		peak = max(peak, d.Messages)
	}
	c := barChartData{ViewBox: fmt.Sprintf("0 0 %d %d", len(days)*bw, h), Label: "Messages per day", Bars: make([]chartBar, 0, len(days))}
	for i, d := range days {
		bh := float64(d.Messages) / float64(peak) * h
		c.Bars = append(c.Bars, bar(i*bw, bw-1, h-bh, bh, fmt.Sprintf("%s: %d", d.Day, d.Messages)))
	}
	return c
}

var weekdays = [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// heatmapData is weekday rows by hour columns; darker is busier.
type heatmapData struct {
	ViewBox, Label        string
	CellWidth, CellHeight int
	Hours                 []axisLabel
	Rows                  []heatRow
}

type axisLabel struct {
	X    int
	Text string
}

type heatRow struct {
	Y     int
	Day   string
	Cells []heatCell
}

type heatCell struct {
	X       int
	Opacity string // two decimals
	Title   string
}

// heatmapOf lays out the heatmap of zone.
func heatmapOf(cells [7][24]int64, zone string) heatmapData {
	const cw, ch, left, top = 24, 18, 36, 14
	var peak int64 = 1
	for _, row := range cells {
		for _, n := range row {
			peak = max(peak, n)
		}
	}
	m := heatmapData{
		ViewBox:   fmt.Sprintf("0 0 %d %d", left+24*cw, top+7*ch),
		Label:     fmt.Sprintf("Messages by weekday and hour over the last 30 days (%s)", zone),
		CellWidth: cw - 2, CellHeight: ch - 2,
	}
	for hr := 0; hr < 24; hr += 3 {
		m.Hours = append(m.Hours, axisLabel{X: left + hr*cw + 4, Text: fmt.Sprintf("%02d", hr)})
	}
	for d, row := range cells {
		r := heatRow{Y: top + d*ch, Day: weekdays[d], Cells: make([]heatCell, 0, len(row))}
		for hr, n := range row {
			op := 0.06 + 0.94*float64(n)/float64(peak)
			r.Cells = append(r.Cells, heatCell{X: left + hr*cw, Opacity: strconv.FormatFloat(op, 'f', 2, 64),
				Title: fmt.Sprintf("%s %02d:00 %s: %d", weekdays[d], hr, zone, n)})
		}
		m.Rows = append(m.Rows, r)
	}
	return m
}
