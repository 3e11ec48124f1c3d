package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/actors/plugins/web/hub"
	"github.com/daz-bot/daz/actors/sqlwriter"
	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
	"github.com/daz-bot/daz/cmd/daz/web"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// The live load: 1 000 chat lines a second to 200 live streams.
const (
	liveStreams    = 200
	liveLinesPerS  = 1000
	liveIngestRows = 60_000 // events per ingest measurement
)

// BenchmarkLiveFanout measures chat-log ingest (the recorded frames of
// big_channel decoded and sent to the real SQL writer, as fast as it
// commits them) alone and while the web server streams 1 000 chat lines a
// second to 200 SSE clients over HTTP. The two are measured in turns
// (alone, streaming, alone, streaming) and averaged, since the machine is
// shared. Reported: both ingest rates, their ratio (target >= 0.9), the
// lines each stream received per second and the streams dropped.
func BenchmarkLiveFanout(b *testing.B) {
	dbURL := pgtest.New(b)
	if err := migrateForBench(context.Background(), dbURL); err != nil {
		b.Fatal(err)
	}
	var packets []frame.Packet
	for _, l := range transcript.ByConn(transcript.MustLoad(b, "big_channel"), "bot") {
		if l.Dir != transcript.DirIn {
			continue
		}
		if p, err := frame.Parse([]byte(l.Frame)); err == nil && p.Type == frame.TypeEvent {
			packets = append(packets, p)
		}
	}
	committed := &sqlwriter.Metrics{}
	notify := make(chan struct{}, 1)
	committed.OnBatch = func(int, time.Duration) {
		select {
		case notify <- struct{}{}:
		default:
		}
	}
	sys := actorkit.NewSystem(nil, nil)
	pid, err := sys.Root().SpawnNamed(sqlwriter.Props(sys, sqlwriter.Config{DatabaseURL: dbURL, DataDir: b.TempDir(), Metrics: committed}), "sqlwriter")
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = sys.Shutdown(ctx, pid.Id)
	}()
	round := 0
	// ingest sends liveIngestRows events, each round on channels of its
	// own so no replayed line is deduplicated away, and waits for the
	// commit of the last.
	ingest := func() float64 {
		b.Helper()
		var seq uint64
		events := make([]*messages.Event, 0, liveIngestRows)
		for len(events) < liveIngestRows {
			round++
			for i := range packets {
				if len(events) == liveIngestRows {
					break
				}
				seq++
				ev, _ := frame.EventFromPacket(fmt.Sprintf("ingest%d", round), seq, time.Now(), &packets[i])
				events = append(events, ev)
			}
		}
		target := committed.BatchRows.Load() + int64(len(events))
		began := time.Now()
		for _, ev := range events {
			sys.Send(pid, ev)
		}
		timeout := time.After(2 * time.Minute)
		for committed.BatchRows.Load() < target {
			select {
			case <-notify:
			case <-timeout:
				b.Fatalf("only %d of %d rows committed", committed.BatchRows.Load(), target)
			}
		}
		return float64(len(events)) / time.Since(began).Seconds()
	}
	ingest() // connections and prepared statements, as in a running daemon

	h := hub.New()
	h.SetState(benchChan, "online", time.Now())
	srv, err := web.New(web.Config{Channels: []web.ChannelConfig{{Name: benchChan, Public: true}}, Hub: h,
		RatePerSecond: 1e9, Burst: 1e9})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()

	var alone, streaming []float64
	var delivered atomic.Int64
	var streamedFor time.Duration
	for b.Loop() {
		for range 2 {
			alone = append(alone, ingest())

			// 200 streams, each counting the chat lines it reads.
			ctx, cancel := context.WithCancel(context.Background())
			var readers sync.WaitGroup
			for range liveStreams {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/c/"+benchChan+"/live/events", nil)
				res, err := http.DefaultClient.Do(req)
				if err != nil || res.StatusCode != 200 {
					b.Fatalf("stream: %v", err)
				}
				readers.Go(func() {
					defer res.Body.Close()
					// Count the chat events in the raw bytes: the readers
					// share the machine with what is measured, so they do
					// as little as a browser's network thread would.
					mark := []byte("\nevent: chat\n")
					buf := make([]byte, 64<<10)
					carry := 0
					for {
						n, err := res.Body.Read(buf[carry:])
						data := buf[:carry+n]
						delivered.Add(int64(bytes.Count(data, mark)))
						carry = copy(buf, data[max(0, len(data)-len(mark)+1):])
						if err != nil {
							return
						}
					}
				})
			}
			for h.Subscribers(benchChan) < liveStreams {
				time.Sleep(time.Millisecond)
			}
			// The lines, ten every 10 ms.
			stop := make(chan struct{})
			var publisher sync.WaitGroup
			began := time.Now()
			publisher.Go(func() {
				tick := time.NewTicker(10 * time.Millisecond)
				defer tick.Stop()
				for n := 0; ; {
					select {
					case <-stop:
						return
					case <-tick.C:
						for range liveLinesPerS / 100 {
							n++
							h.Chat(benchChan, "user0001", fmt.Sprintf("line %d: hello everyone, what are we watching tonight?", n), time.Now(), false)
						}
					}
				}
			})
			time.Sleep(200 * time.Millisecond) // the streams are flowing
			streaming = append(streaming, ingest())
			close(stop)
			publisher.Wait()
			streamedFor += time.Since(began)
			time.Sleep(100 * time.Millisecond) // the last flush
			cancel()
			readers.Wait()
		}
	}
	mean := func(xs []float64) float64 {
		var s float64
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	b.ReportMetric(mean(alone), "ingest_events/s")
	b.ReportMetric(mean(streaming), "ingest_with_200_streams_events/s")
	b.ReportMetric(mean(streaming)/mean(alone), "ratio")
	b.ReportMetric(float64(delivered.Load())/liveStreams/streamedFor.Seconds(), "lines/s_per_stream")
	b.ReportMetric(float64(h.DroppedTotal()), "streams_dropped")
}
