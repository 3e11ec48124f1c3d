package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/daz-bot/daz/actors/connection"
)

// connectionCollector exposes what each channel's reader counted: frames,
// events, unknown event names (kept as raw events) and undecodable input.
type connectionCollector struct {
	counters                                      map[string]*connection.Counters
	frames, events, unknown, decodeErr, malformed *prometheus.Desc
}

func newConnectionCollector(counters map[string]*connection.Counters) *connectionCollector {
	label := []string{"channel"}
	return &connectionCollector{
		counters:  counters,
		frames:    prometheus.NewDesc("daz_frames_total", "Websocket frames read.", label, nil),
		events:    prometheus.NewDesc("daz_connection_events_total", "Server events read and handed to the writer and the EventFilter.", label, nil),
		unknown:   prometheus.NewDesc("daz_unknown_events_total", "Events with a name daz has no type for (logged as raw events).", label, nil),
		decodeErr: prometheus.NewDesc("daz_decode_errors_total", "Known events whose payload did not have the expected shape (logged raw).", label, nil),
		malformed: prometheus.NewDesc("daz_malformed_frames_total", "Frames that could not be parsed at all.", label, nil),
	}
}

func (c *connectionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.frames, c.events, c.unknown, c.decodeErr, c.malformed} {
		ch <- d
	}
}

func (c *connectionCollector) Collect(ch chan<- prometheus.Metric) {
	for channel, n := range c.counters {
		ch <- prometheus.MustNewConstMetric(c.frames, prometheus.CounterValue, float64(n.Frames.Load()), channel)
		ch <- prometheus.MustNewConstMetric(c.events, prometheus.CounterValue, float64(n.Events.Load()), channel)
		ch <- prometheus.MustNewConstMetric(c.unknown, prometheus.CounterValue, float64(n.UnknownEvents.Load()), channel)
		ch <- prometheus.MustNewConstMetric(c.decodeErr, prometheus.CounterValue, float64(n.DecodeErrors.Load()), channel)
		ch <- prometheus.MustNewConstMetric(c.malformed, prometheus.CounterValue, float64(n.Malformed.Load()), channel)
	}
}
