package sqlwriter

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/internal/testpg"
)

// BenchmarkBurstMemory feeds a 100 000-event burst (the live part of
// big_channel.jsonl, repeated, each repetition on its own channel so no
// line is deduplicated away) as fast as the decoder produces it, with the
// daemon's writer settings, and reports the process's peak RSS during the
// burst and the ingest rate until the last row is committed.
//
// wire_speed sends as fast as the decoder goes, so the writer's mailbox
// holds what it has not taken yet; paced keeps the sender at most 1 000
// events ahead of the writer, which isolates the writer's own buffering.
func BenchmarkBurstMemory(b *testing.B) {
	_, live := benchFrames(b, "big_channel")
	for _, c := range []struct {
		name   string
		paced  bool
		budget int64
	}{
		{"wire_speed", false, 0},
		{"paced", true, 0},
		{"paced_8MiB", true, 8 << 20},
	} {
		b.Run(c.name, func(b *testing.B) { benchBurstMemory(b, live, c.paced, c.budget) })
	}
}

func benchBurstMemory(b *testing.B, live [][]byte, paced bool, budget int64) {
	const burst = 100_000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dbURL := testpg.NewMigrated(b)
		waiter := newCommittedWaiter()
		h := startWriter(b, Config{DatabaseURL: dbURL, Metrics: waiter.metrics, MaxBufferedEvents: 100_000, MaxBufferedBytes: budget}, false)
		warmUp(b, h, waiter, live)
		base := waiter.metrics.BatchRows.Load()
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS(b)
		before := procStatusKB(b, "VmRSS")
		b.StartTimer()

		start := time.Now()
		var seq uint64
		for sent, pass := 0, 0; sent < burst; pass++ {
			for _, ev := range decodeFrames(b, live, fmt.Sprintf("burst%d-%d", i, pass), &seq) {
				if sent == burst {
					break
				}
				h.send(ev)
				sent++
				for paced && int64(sent)-waiter.metrics.EventsReceived.Load() > 1000 {
					runtime.Gosched()
				}
			}
		}
		waiter.wait(b, base+burst)
		took := time.Since(start)

		b.StopTimer()
		b.ReportMetric(float64(procStatusKB(b, "VmHWM"))/1024, "peak_rss_MB")
		b.ReportMetric(float64(before)/1024, "rss_before_MB")
		b.ReportMetric(burst/took.Seconds(), "events/s")
		h.stop()
	}
}

// resetPeakRSS makes VmHWM start again from the current RSS.
func resetPeakRSS(b *testing.B) {
	b.Helper()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Fatalf("reset peak RSS: %v", err)
	}
}

// procStatusKB reads one kB value of /proc/self/status.
func procStatusKB(b *testing.B, key string) int64 {
	b.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatalf("read /proc/self/status: %v", err)
	}
	for _, line := range bytes.Split(status, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte(key+":"))
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
		if err != nil {
			b.Fatalf("parse %s: %v", key, err)
		}
		return kb
	}
	b.Fatalf("%s not in /proc/self/status", key)
	return 0
}
