package sqlwriter

import (
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// BenchmarkResumeAfterOutage cuts the database away for 60 s of the
// writer's (fake) clock while events keep coming, restores it, and reports
// how long after the restore, on that clock, the events are written, and
// how often the writer probed the database while it was away.
func BenchmarkResumeAfterOutage(b *testing.B) {
	const (
		outage = 60 * time.Second
		step   = 10 * time.Millisecond
	)
	var resume time.Duration
	var probeCount int64
	for i := 0; i < b.N; i++ {
		dbURL := testpg.NewMigrated(b)
		pool := testpg.Pool(b, dbURL)
		proxy := pgtest.NewFaultProxy(b, dbURL)
		metrics := &Metrics{}
		h := startWriter(b, Config{DatabaseURL: proxy.URL(b, dbURL), Metrics: metrics}, true)
		var seq uint64
		send := func() {
			seq++
			h.send(floodEvent(b, "resume", seq, h.clk.Now()))
		}
		send()
		h.waitFor("first row", step, func() bool { return countRows(b, pool, "") == 1 })

		proxy.Cut()
		send()
		h.waitFor("writer knows the database is down", step, func() bool { return !h.stats().DBUp })
		failures := metrics.WriteFailures.Load()
		for elapsed := time.Duration(0); elapsed < outage; elapsed += step {
			h.clk.Advance(step)
			if elapsed%time.Second == 0 {
				send()
			}
			time.Sleep(time.Millisecond) // lets a due probe run against the cut proxy
		}
		probeCount += metrics.WriteFailures.Load() - failures

		proxy.Restore()
		restored := h.clk.Now()
		want := int(seq)
		h.waitFor("events written after the restore", step, func() bool { return countRows(b, pool, "") == want })
		resume += h.clk.Now().Sub(restored)
		h.stop()
	}
	b.ReportMetric(float64(resume.Milliseconds())/float64(b.N), "resume_ms")
	b.ReportMetric(float64(probeCount)/float64(b.N)/outage.Seconds(), "probes/s_while_down")
}
