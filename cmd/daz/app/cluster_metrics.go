package app

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/daz-bot/daz/actors/ownership"
)

// newClusterCollectors exposes the ownership actor's totals and the double
// connections seen (the target is zero).
func newClusterCollectors(c *ownership.Counters, duplicates *atomic.Int64) []prometheus.Collector {
	load := func(v *atomic.Int64) func() float64 { return func() float64 { return float64(v.Load()) } }
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "daz_cluster_owned_channels",
			Help: "Channels this daemon holds the lock of and runs."}, load(&c.Owned)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "daz_cluster_acquisitions_total",
			Help: "Channel locks taken."}, load(&c.Acquisitions)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "daz_cluster_releases_total",
			Help: "Channels handed over to another daemon (stopped, then unlocked)."}, load(&c.Releases)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "daz_cluster_fences_total",
			Help: "Times this daemon stopped its channels because it could not confirm its lock session."}, load(&c.Fences)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "daz_cluster_double_connections_total",
			Help: "Duplicate-login kicks: two sessions of the bot were in one channel."}, load(duplicates)),
	}
}
