package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNilMetricsIsSafe(t *testing.T) {
	var m *Metrics
	m.BatchWritten(3, time.Millisecond)
	m.Reconnect("c", "kicked")
}

func TestCountersExposeLabels(t *testing.T) {
	m := New()
	m.Routed("testchan", "routed")
	m.Routed("testchan", "routed")
	m.Reconnect("testchan", "rate_limited")
	want := `
# HELP daz_eventfilter_routes_total EventFilter decisions, by decision.
# TYPE daz_eventfilter_routes_total counter
daz_eventfilter_routes_total{channel="testchan",decision="routed"} 2
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "daz_eventfilter_routes_total"); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.reconnects.WithLabelValues("testchan", "rate_limited")); got != 1 {
		t.Fatalf("reconnects = %v", got)
	}
}
