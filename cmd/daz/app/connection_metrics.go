package app

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/daz-bot/daz/actors/connection"
)

// counterSet holds each channel's reader counters; channels come and go at
// run time (the registry), so it is locked.
type counterSet struct {
	mu sync.Mutex
	m  map[string]*connection.Counters // by lower-case channel name
}

// get returns the channel's counters, made on first use; a channel that
// comes back keeps counting where it left off.
func (c *counterSet) get(name string) *connection.Counters {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*connection.Counters{}
	}
	n, ok := c.m[name]
	if !ok {
		n = &connection.Counters{}
		c.m[name] = n
	}
	return n
}

func (c *counterSet) snapshot() map[string]*connection.Counters {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]*connection.Counters, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// connectionCollector exposes what each channel's reader counted: frames,
// events, unknown event names (kept as raw events) and undecodable input.
type connectionCollector struct {
	counters                                      *counterSet
	frames, events, unknown, decodeErr, malformed *prometheus.Desc
}

func newConnectionCollector(counters *counterSet) *connectionCollector {
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
	for channel, n := range c.counters.snapshot() {
		ch <- prometheus.MustNewConstMetric(c.frames, prometheus.CounterValue, float64(n.Frames.Load()), channel)
		ch <- prometheus.MustNewConstMetric(c.events, prometheus.CounterValue, float64(n.Events.Load()), channel)
		ch <- prometheus.MustNewConstMetric(c.unknown, prometheus.CounterValue, float64(n.UnknownEvents.Load()), channel)
		ch <- prometheus.MustNewConstMetric(c.decodeErr, prometheus.CounterValue, float64(n.DecodeErrors.Load()), channel)
		ch <- prometheus.MustNewConstMetric(c.malformed, prometheus.CounterValue, float64(n.Malformed.Load()), channel)
	}
}
