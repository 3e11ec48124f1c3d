package sqlwriter

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
	"github.com/daz-bot/daz/messages"
)

// benchFrames returns the event frames the bot connection of a transcript
// received, as raw websocket text, split at the end of the join burst (the
// setUserRank that follows the bot's login).
func benchFrames(b *testing.B, name string) (burst, live [][]byte) {
	b.Helper()
	var all [][]byte
	end := 0
	for _, l := range transcript.ByConn(transcript.MustLoad(b, name), "bot") {
		if l.Dir != transcript.DirIn {
			continue
		}
		p, err := frame.Parse([]byte(l.Frame))
		if err != nil || p.Type != frame.TypeEvent {
			continue
		}
		all = append(all, []byte(l.Frame))
		if p.Name == "setUserRank" && end == 0 {
			end = len(all)
		}
	}
	if end == 0 {
		b.Fatalf("%s: no end of the join burst found", name)
	}
	return all[:end], all[end:]
}

// decodeFrames is the connection's part of the pipeline: parse each frame
// and build its typed event.
func decodeFrames(b *testing.B, frames [][]byte, channel string, seq *uint64) []*messages.Event {
	b.Helper()
	out := make([]*messages.Event, 0, len(frames))
	for _, f := range frames {
		p, err := frame.Parse(f)
		if err != nil {
			b.Fatalf("parse: %v", err)
		}
		*seq++
		ev, _ := frame.EventFromPacket(channel, *seq, time.Now(), &p)
		out = append(out, ev)
	}
	return out
}

// committedWaiter lets a benchmark block until the writer has committed a
// number of rows, without polling.
type committedWaiter struct {
	metrics *Metrics
	notify  chan struct{}
}

func newCommittedWaiter() *committedWaiter {
	w := &committedWaiter{metrics: &Metrics{}, notify: make(chan struct{}, 1)}
	w.metrics.OnBatch = func(int, time.Duration) {
		select {
		case w.notify <- struct{}{}:
		default:
		}
	}
	return w
}

func (w *committedWaiter) wait(b *testing.B, rows int64) {
	b.Helper()
	timeout := time.After(2 * time.Minute)
	for w.metrics.BatchRows.Load() < rows {
		select {
		case <-w.notify:
		case <-timeout:
			b.Fatalf("only %d of %d rows committed", w.metrics.BatchRows.Load(), rows)
		}
	}
}

// warmUp logs the frames once on a channel of their own, so connections
// and prepared statements exist before the clock starts, as they do in a
// running daemon.
func warmUp(b *testing.B, h *harness, waiter *committedWaiter, frames [][]byte) {
	b.Helper()
	var seq uint64
	for _, ev := range decodeFrames(b, frames, "warmup", &seq) {
		h.send(ev)
	}
	waiter.wait(b, waiter.metrics.BatchRows.Load()+int64(len(frames)))
}

// BenchmarkIngest streams the bot's frames of big_channel.jsonl through the
// whole pipeline (frame decode, the writer actor, batching, COPY into the
// staging table, INSERT ... ON CONFLICT) and, in the same run, copies the
// same rows straight into the chat log with pgx CopyFrom. Each iteration
// uses a new channel name so chat lines are never deduplicated away.
func BenchmarkIngest(b *testing.B) {
	burst, live := benchFrames(b, "big_channel")
	corpora := []struct {
		name   string
		frames [][]byte
	}{
		{"big_channel_all", append(append([][]byte{}, burst...), live...)},
		{"big_channel_live", live},
	}
	for _, c := range corpora {
		b.Run(c.name, func(b *testing.B) { benchIngest(b, c.frames) })
	}
}

func benchIngest(b *testing.B, frames [][]byte) {
	dbURL := testpg.NewMigrated(b)
	pool := testpg.Pool(b, dbURL)
	waiter := newCommittedWaiter()
	h := startWriter(b, Config{DatabaseURL: dbURL, Metrics: waiter.metrics}, false)

	// The baseline's rows: the very rows the writer builds, one set per
	// iteration with that iteration's channel.
	var seq uint64
	template := decodeFrames(b, frames, "raw", &seq)
	rawRows := make([][][]any, b.N)
	for i := range rawRows {
		rows := make([][]any, len(template))
		for j, ev := range template {
			rec, _ := newRecord(ev, time.Now())
			rec.Channel = fmt.Sprintf("raw%d", i)
			rows[j] = rec.appendValues(nil)
		}
		rawRows[i] = rows
	}
	var bytesPerRun int64
	for _, f := range frames {
		bytesPerRun += int64(len(f))
	}
	warmUp(b, h, waiter, frames)
	warmRow := append([]any(nil), rawRows[0][0]...)
	warmRow[1] = "rawwarmup" // the channel column
	if _, err := pool.CopyFrom(context.Background(), pgx.Identifier{"daz_core_chat_log"}, columns,
		pgx.CopyFromRows([][]any{warmRow})); err != nil {
		b.Fatalf("raw copy warm-up: %v", err)
	}
	base := waiter.metrics.BatchRows.Load()
	tableBase := countRows(b, pool, "")

	b.SetBytes(bytesPerRun)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for _, ev := range decodeFrames(b, frames, fmt.Sprintf("pipe%d", i), &seq) {
			h.send(ev)
		}
	}
	waiter.wait(b, base+int64(b.N*len(frames)))
	pipeline := time.Since(start)
	b.StopTimer()

	rawStart := time.Now()
	for i := 0; i < b.N; i++ {
		n, err := pool.CopyFrom(context.Background(), pgx.Identifier{"daz_core_chat_log"}, columns, pgx.CopyFromRows(rawRows[i]))
		if err != nil || n != int64(len(frames)) {
			b.Fatalf("raw copy: %d rows, %v", n, err)
		}
	}
	raw := time.Since(rawStart)

	events := float64(b.N * len(frames))
	b.ReportMetric(events/pipeline.Seconds(), "events/s")
	b.ReportMetric(events/raw.Seconds(), "raw_copy_events/s")
	b.ReportMetric(raw.Seconds()/pipeline.Seconds(), "ratio")
	if got := countRows(b, pool, "") - tableBase; got != 2*b.N*len(frames) {
		b.Fatalf("%d rows added to the table, want %d", got, 2*b.N*len(frames))
	}
}

// BenchmarkJoinBurst logs the bot's join burst of big_channel.jsonl (39
// events: two 727 KB playlists, two userlists of 600 users, 15 replayed chat
// lines) fed as fast as the decoder produces them, and reports the time from
// decoding the first frame until every row is committed. The default
// FlushInterval applies, as in the daemon. first_join starts each burst with
// no shared payload stored (the first join after the playlist changed);
// rejoin finds them stored, as every reconnect does.
func BenchmarkJoinBurst(b *testing.B) {
	for _, c := range []struct {
		name  string
		fresh bool
	}{{"first_join", true}, {"rejoin", false}} {
		b.Run(c.name, func(b *testing.B) { benchJoinBurst(b, c.fresh) })
	}
}

func benchJoinBurst(b *testing.B, fresh bool) {
	burst, _ := benchFrames(b, "big_channel")
	dbURL := testpg.NewMigrated(b)
	pool := testpg.Pool(b, dbURL)
	waiter := newCommittedWaiter()
	h := startWriter(b, Config{DatabaseURL: dbURL, Metrics: waiter.metrics}, false)
	warmUp(b, h, waiter, burst)
	base := waiter.metrics.BatchRows.Load()
	var seq uint64
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if fresh {
			b.StopTimer()
			if _, err := pool.Exec(context.Background(), `TRUNCATE daz_core_payload`); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		start := time.Now()
		for _, ev := range decodeFrames(b, burst, fmt.Sprintf("burst%d", i), &seq) {
			h.send(ev)
		}
		waiter.wait(b, base+int64((i+1)*len(burst)))
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms_to_commit")
	b.ReportMetric(float64(len(burst)), "events")
}

// BenchmarkBufferedEventMemory measures the heap a buffered event costs
// while the database is unreachable: the writer holds the events of the
// live part of big_channel.jsonl, repeated, in memory.
func BenchmarkBufferedEventMemory(b *testing.B) {
	_, live := benchFrames(b, "big_channel")
	const perOp = 20_000
	var perEvent float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		metrics := &Metrics{}
		h := startWriter(b, Config{
			DatabaseURL:       "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1",
			MaxBufferedEvents: 10 * perOp, Metrics: metrics, RetryBase: time.Hour, RetryMax: time.Hour,
		}, true)
		before := heapInUse()
		b.StartTimer()
		var seq uint64
		for sent := 0; sent < perOp; {
			for _, ev := range decodeFrames(b, live, "mem", &seq) {
				if sent == perOp {
					break
				}
				h.send(ev)
				sent++
			}
		}
		for metrics.EventsReceived.Load() < perOp {
			runtime.Gosched()
		}
		b.StopTimer()
		perEvent = float64(heapInUse()-before) / perOp
		if st := h.stats(); st.Buffered != perOp {
			b.Fatalf("%d events buffered, want %d", st.Buffered, perOp)
		}
		b.ReportMetric(float64(metrics.BufferedBytes.Load())/perOp, "estimated_bytes/event")
		h.stop()
	}
	b.ReportMetric(perEvent, "heap_bytes/event")
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
