package sqlwriter

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/actors/internal/testpg"
)

// BenchmarkBurstMemory feeds a burst of 20 000 or 100 000 events (the live
// part of big_channel.jsonl, repeated, each repetition on its own channel
// so no line is deduplicated away) at wire speed: one goroutine parses and
// decodes frame by frame and sends each event the way a connection's reader
// does, waiting on the writer's Intake first. It reports the process's peak
// RSS during the burst (VmHWM, reset just before it) and the ingest rate
// until the last row is committed, and checks that every row is there.
//
// The gated cases run as the daemon does: with the Intake and the soft
// memory limit derived from the budget. The ungated case is the daemon
// before either existed: the writer's mailbox then holds what it has not
// taken yet, and the heap grows to twice what is live.
func BenchmarkBurstMemory(b *testing.B) {
	_, live := benchFrames(b, "big_channel")
	for _, c := range []struct {
		name  string
		burst int
		gated bool
	}{
		{"wire_speed_20k", 20_000, true},
		{"wire_speed_100k", 100_000, true},
		{"ungated_20k", 20_000, false},
		{"ungated_100k", 100_000, false},
	} {
		b.Run(c.name, func(b *testing.B) { benchBurstMemory(b, live, c.burst, c.gated) })
	}
}

func benchBurstMemory(b *testing.B, live [][]byte, burst int, gated bool) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dbURL := testpg.NewMigrated(b)
		pool := testpg.Pool(b, dbURL)
		waiter := newCommittedWaiter()
		var intake *Intake
		prevLimit := debug.SetMemoryLimit(-1)
		if gated {
			intake = NewIntake(nil)
			debug.SetMemoryLimit(SoftMemoryLimit(DefaultMaxBufferedBytes))
		}
		h := startWriter(b, Config{DatabaseURL: dbURL, Metrics: waiter.metrics, MaxBufferedEvents: 100_000, Intake: intake}, false)
		warmUp(b, h, waiter, live)
		base := waiter.metrics.BatchRows.Load()
		rowsBefore := countRows(b, pool, "")
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS(b)
		before := procStatusKB(b, "VmRSS")
		b.StartTimer()

		start := time.Now()
		var seq uint64
		for sent, pass := 0, 0; sent < burst; pass++ {
			channel := fmt.Sprintf("burst%d-%d", i, pass)
			for _, f := range live {
				if sent == burst {
					break
				}
				p, err := frame.Parse(f)
				if err != nil {
					b.Fatalf("parse: %v", err)
				}
				seq++
				ev, _ := frame.EventFromPacket(channel, seq, time.Now(), &p)
				if err := intake.Wait(context.Background()); err != nil {
					b.Fatalf("intake: %v", err)
				}
				intake.Sent(ev)
				h.send(ev)
				sent++
			}
		}
		waiter.wait(b, base+int64(burst))
		took := time.Since(start)

		b.StopTimer()
		b.ReportMetric(float64(procStatusKB(b, "VmHWM"))/1024, "peak_rss_MB")
		b.ReportMetric(float64(before)/1024, "rss_before_MB")
		b.ReportMetric(float64(procStatusKB(b, "RssFile"))/1024, "rss_file_MB")
		b.ReportMetric(float64(burst)/took.Seconds(), "events_per_s")
		if got := countRows(b, pool, "") - rowsBefore; got != burst {
			b.Fatalf("%d rows committed, want %d: events lost", got, burst)
		}
		h.stop()
		debug.SetMemoryLimit(prevLimit)
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
