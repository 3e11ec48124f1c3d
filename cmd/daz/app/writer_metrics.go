package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/daz-bot/daz/actors/sqlwriter"
)

// writerCollector exposes the SQL writer's own counters at scrape time, so
// the hot path (one event, one row) updates plain atomics only.
type writerCollector struct {
	m                                   *sqlwriter.Metrics
	events, rows, dups, buffered, spill *prometheus.Desc
	quarantined, sanitized, overLimit   *prometheus.Desc
}

func newWriterCollector(m *sqlwriter.Metrics) *writerCollector {
	return &writerCollector{
		m:           m,
		events:      prometheus.NewDesc("daz_events_total", "Server events received, by event type.", []string{"event"}, nil),
		rows:        prometheus.NewDesc("daz_chatlog_rows_written_total", "Rows committed to daz_core_chat_log.", nil, nil),
		dups:        prometheus.NewDesc("daz_chatlog_duplicates_total", "Replayed chat lines skipped because they were already logged.", nil, nil),
		buffered:    prometheus.NewDesc("daz_chatlog_buffered_events", "Events accepted but not yet committed, in memory.", nil, nil),
		spill:       prometheus.NewDesc("daz_chatlog_spilled_events", "Events waiting in the on-disk spill file.", nil, nil),
		quarantined: prometheus.NewDesc("daz_chatlog_quarantined_total", "Rows PostgreSQL refused, stored in quarantined form.", nil, nil),
		sanitized:   prometheus.NewDesc("daz_chatlog_sanitized_total", "Events whose text needed repair to be storable.", nil, nil),
		overLimit:   prometheus.NewDesc("daz_chatlog_buffer_over_limit_total", "Times the in-memory buffer went over its limit because the spill file could not take more.", nil, nil),
	}
}

func (c *writerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.events, c.rows, c.dups, c.buffered, c.spill, c.quarantined, c.sanitized, c.overLimit} {
		ch <- d
	}
}

func (c *writerCollector) Collect(ch chan<- prometheus.Metric) {
	for name, n := range c.m.EventsByType() {
		ch <- prometheus.MustNewConstMetric(c.events, prometheus.CounterValue, float64(n), name)
	}
	ch <- prometheus.MustNewConstMetric(c.rows, prometheus.CounterValue, float64(c.m.RowsWritten.Load()))
	ch <- prometheus.MustNewConstMetric(c.dups, prometheus.CounterValue, float64(c.m.Duplicates.Load()))
	ch <- prometheus.MustNewConstMetric(c.buffered, prometheus.GaugeValue, float64(c.m.Buffered.Load()))
	ch <- prometheus.MustNewConstMetric(c.spill, prometheus.GaugeValue, float64(c.m.Spilled.Load()))
	ch <- prometheus.MustNewConstMetric(c.quarantined, prometheus.CounterValue, float64(c.m.Quarantined.Load()))
	ch <- prometheus.MustNewConstMetric(c.sanitized, prometheus.CounterValue, float64(c.m.Sanitized.Load()))
	ch <- prometheus.MustNewConstMetric(c.overLimit, prometheus.CounterValue, float64(c.m.OverLimit.Load()))
}
