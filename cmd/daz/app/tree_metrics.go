package app

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/outbound"
)

// treeCollector reads what actors already publish on the live tree (their
// own state structs and restart counts) at scrape time, so the actors need
// no metrics code of their own on their hot paths.
type treeCollector struct {
	tree                                  *actorkit.Tree
	outboundDepth, throttleWaits, resends *prometheus.Desc
	pluginRestarts, actorRestarts         *prometheus.Desc
	mailboxDepth                          *prometheus.Desc
}

func newTreeCollector(tree *actorkit.Tree) *treeCollector {
	return &treeCollector{
		tree:           tree,
		outboundDepth:  prometheus.NewDesc("daz_outbound_queue_depth", "Messages waiting in a channel's outbound queue.", []string{"channel"}, nil),
		throttleWaits:  prometheus.NewDesc("daz_outbound_throttle_waits_total", "Times the outbound queue waited for the server's flood limit.", []string{"channel"}, nil),
		resends:        prometheus.NewDesc("daz_outbound_cooldown_resends_total", "Messages the server dropped with a cooldown and daz sent again.", []string{"channel"}, nil),
		pluginRestarts: prometheus.NewDesc("daz_plugin_restarts_total", "Restarts of a plugin after a failure.", []string{"channel", "plugin"}, nil),
		actorRestarts:  prometheus.NewDesc("daz_actor_restarts_total", "Restarts of any actor, by kind.", []string{"kind"}, nil),
		mailboxDepth:   prometheus.NewDesc("daz_actor_mailbox_depth", "Messages queued for actors, by kind.", []string{"kind"}, nil),
	}
}

func (c *treeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.outboundDepth, c.throttleWaits, c.resends, c.pluginRestarts, c.actorRestarts, c.mailboxDepth} {
		ch <- d
	}
}

func (c *treeCollector) Collect(ch chan<- prometheus.Metric) {
	restarts := map[string]int{}
	depth := map[string]int{}
	var walk func(n actorkit.NodeInfo)
	walk = func(n actorkit.NodeInfo) {
		restarts[n.Kind] += n.Restarts
		depth[n.Kind] += n.MailboxDepth
		parts := strings.Split(n.ID, "/")
		// daz/channels/<channel>/outbound and daz/channels/<channel>/plugins/<plugin>
		if len(parts) >= 4 && parts[1] == "channels" {
			channel := parts[2]
			if st, ok := n.State.(outbound.State); ok {
				ch <- prometheus.MustNewConstMetric(c.outboundDepth, prometheus.GaugeValue, float64(st.QueueDepth), channel)
				ch <- prometheus.MustNewConstMetric(c.throttleWaits, prometheus.CounterValue, float64(st.ThrottleWaits), channel)
				ch <- prometheus.MustNewConstMetric(c.resends, prometheus.CounterValue, float64(st.Resent), channel)
			}
			if len(parts) == 5 && parts[3] == "plugins" {
				ch <- prometheus.MustNewConstMetric(c.pluginRestarts, prometheus.CounterValue, float64(n.Restarts), channel, parts[4])
			}
		}
		for _, child := range n.Children {
			walk(child)
		}
	}
	for _, root := range c.tree.Snapshot() {
		walk(root)
	}
	for kind, n := range restarts {
		ch <- prometheus.MustNewConstMetric(c.actorRestarts, prometheus.CounterValue, float64(n), kind)
	}
	for kind, n := range depth {
		ch <- prometheus.MustNewConstMetric(c.mailboxDepth, prometheus.GaugeValue, float64(n), kind)
	}
}
