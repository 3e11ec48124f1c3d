package hub_test

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
)

// BenchmarkChatFanout is one chat line handed to the hub with N live
// streams taking the lines as a stream does (wake on Ready, take all),
// without the HTTP writes. The
// plugin pays the publish per line; ingest (connection -> SQL writer) never
// does. The load is 1 000 lines/s to 200 streams: the ns/op at 200
// times 1 000 is the share of one core it costs, readers included.
// BenchmarkLiveFanout (cmd/daz/web) measures the whole of it over HTTP
// against the chat-log ingest.
func BenchmarkChatFanout(b *testing.B) {
	for _, n := range []int{0, 200} {
		b.Run(strconv.Itoa(n)+"_streams", func(b *testing.B) {
			h := hub.New()
			var wg sync.WaitGroup
			var taken atomic.Int64
			subs := make([]*hub.Sub, n)
			for i := range subs {
				subs[i] = h.Subscribe("c", hub.Backlog)
				wg.Go(func() {
					var batch []*hub.Event
					for {
						select {
						case <-subs[i].Ready():
						case <-subs[i].Dropped():
							return
						}
						var ok bool
						if batch, ok = subs[i].Take(batch[:0]); !ok {
							return
						}
						taken.Add(int64(len(batch)))
					}
				})
			}
			b.ResetTimer()
			for i := range b.N {
				h.Chat("c", "alice", "hello everyone, what are we watching tonight?", t0, false)
				// Every 256 lines the streams catch up, as they do at any
				// rate the machine can serve, so none is dropped.
				for i%256 == 255 && taken.Load() < int64(n*(i+1)) {
					runtime.Gosched()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(h.DroppedTotal()), "dropped")
			for _, s := range subs {
				h.Unsubscribe(s)
			}
			wg.Wait()
		})
	}
}
