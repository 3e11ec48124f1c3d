package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNilMetricsIsSafe(t *testing.T) {
	var m *Metrics
	m.EventReceived("c", "chatMsg")
	m.BatchWritten(3, time.Millisecond)
	m.Reconnect("c", "kicked")
}

func TestCountersExposeLabels(t *testing.T) {
	m := New()
	m.EventReceived("testchan", "chatMsg")
	m.EventReceived("testchan", "chatMsg")
	m.Reconnect("testchan", "rate_limited")
	want := `
# HELP daz_events_total Server events received, by channel and event type.
# TYPE daz_events_total counter
daz_events_total{channel="testchan",event="chatMsg"} 2
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "daz_events_total"); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.reconnects.WithLabelValues("testchan", "rate_limited")); got != 1 {
		t.Fatalf("reconnects = %v", got)
	}
}
