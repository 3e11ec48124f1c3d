package logmaint

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/sqlwriter"
)

// BenchmarkRetentionDuringIngest measures the writer's ingest rate alone and
// while old months are dropped back to back (each recreated with 20 000 rows
// and dropped again by a retention round), the worst case of the ACCESS
// EXCLUSIVE lock DETACH takes for a moment. Reported: lines/s of each, and
// the mean time of one drop round.
func BenchmarkRetentionDuringIngest(b *testing.B) {
	const lines, monthRows = 40_000, 20_000
	dbURL := testpg.NewMigrated(b)
	pool := testpg.Pool(b, dbURL)
	ctx := b.Context()
	metrics := &sqlwriter.Metrics{}
	sys := actorkit.NewSystem(actortest.Logger(b, slog.LevelWarn), nil)
	writer, err := sys.Root().SpawnNamed(sqlwriter.Props(sys, sqlwriter.Config{
		DatabaseURL: dbURL, DataDir: b.TempDir(), Metrics: metrics,
	}), "sqlwriter")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = sys.Shutdown(sctx, writer.Id)
	})
	now := time.Now().UTC()
	var seq uint64
	ingest := func() time.Duration {
		start, target := time.Now(), metrics.RowsWritten.Load()+lines
		for range lines {
			seq++
			sys.Send(writer, liveLine(seq, now))
		}
		if !actortest.WaitFor(5*time.Minute, func() bool { return metrics.RowsWritten.Load() >= target }) {
			b.Fatal("ingest did not finish")
		}
		return time.Since(start)
	}
	old := monthStart(now).AddDate(-2, 0, 0)
	dropper := newMaintainer(b, pool, 400*24*time.Hour, 3)
	maker := newMaintainer(b, pool, 0, 0)

	var plain, dropping, dropTime time.Duration
	var drops int
	b.ResetTimer()
	for range b.N {
		plain += ingest()

		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if rep := maker.round(ctx, old); rep.Err != nil {
					b.Errorf("create old month: %v", rep.Err)
					return
				}
				if _, err := pool.Exec(ctx, `INSERT INTO daz_core_chat_log (timestamp, channel, event_type)
					SELECT $1::timestamptz + g * interval '1 minute', 'old', 'chatMsg' FROM generate_series(1, $2::int) g`,
					old, monthRows); err != nil {
					b.Errorf("fill old month: %v", err)
					return
				}
				began := time.Now()
				rep := dropper.round(ctx, now)
				if rep.Err != nil || len(rep.Dropped) != 1 {
					b.Errorf("drop round: %+v", rep)
					return
				}
				dropTime += time.Since(began)
				drops++
			}
		}()
		dropping += ingest()
		close(stop)
		wg.Wait()
	}
	b.StopTimer()
	if f := metrics.WriteFailures.Load(); f != 0 {
		b.Errorf("%d batch writes failed", f)
	}
	b.ReportMetric(float64(lines*b.N)/plain.Seconds(), "lines/s_plain")
	b.ReportMetric(float64(lines*b.N)/dropping.Seconds(), "lines/s_dropping")
	if drops > 0 {
		b.ReportMetric(float64(dropTime.Milliseconds())/float64(drops), "ms/drop_round")
		b.ReportMetric(float64(drops)/float64(b.N), "drops/op")
	}
}
