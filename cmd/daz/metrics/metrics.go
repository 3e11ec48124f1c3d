// Package metrics owns daz's Prometheus collectors. It uses its own registry
// (no global state) and every method is safe on a nil *Metrics, so
// components take an optional *Metrics and tests can pass none.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics is the set of daz's collectors.
type Metrics struct {
	Registry *prometheus.Registry

	batchSize      prometheus.Histogram
	writeLatency   prometheus.Histogram
	reconnects     *prometheus.CounterVec
	commandLatency *prometheus.HistogramVec
	routes         *prometheus.CounterVec
}

// New registers every collector, plus the Go and process collectors, on a
// fresh registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "daz_chatlog_batch_size", Help: "Events per chat-log batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		writeLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "daz_chatlog_write_seconds", Help: "Time to commit one chat-log batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "daz_reconnects_total", Help: "Failed connection attempts, by channel and reason.",
		}, []string{"channel", "reason"}),
		commandLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "daz_command_seconds", Help: "From a command's frame arriving to its reply being queued.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"command"}),
		routes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "daz_eventfilter_routes_total", Help: "EventFilter decisions, by decision.",
		}, []string{"channel", "decision"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.batchSize, m.writeLatency,
		m.reconnects, m.commandLatency, m.routes,
	)
	return m
}

// BatchWritten records one committed chat-log batch.
func (m *Metrics) BatchWritten(rows int, took time.Duration) {
	if m != nil {
		m.batchSize.Observe(float64(rows))
		m.writeLatency.Observe(took.Seconds())
	}
}

// Reconnect counts one failed connection attempt.
func (m *Metrics) Reconnect(channel, reason string) {
	if m != nil {
		m.reconnects.WithLabelValues(channel, reason).Inc()
	}
}

// CommandHandled records a command's latency.
func (m *Metrics) CommandHandled(command string, took time.Duration) {
	if m != nil {
		m.commandLatency.WithLabelValues(command).Observe(took.Seconds())
	}
}

// Routed counts one EventFilter decision.
func (m *Metrics) Routed(channel, decision string) {
	if m != nil {
		m.routes.WithLabelValues(channel, decision).Inc()
	}
}
