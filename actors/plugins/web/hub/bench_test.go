package hub_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
)

// BenchmarkChatFanout is one chat line handed to the hub with N live
// streams reading. Their buffers hold the whole run, so every stream stays
// subscribed and each op pays all N deliveries (in the daemon a stream that
// falls 256 lines behind is dropped instead). The plugin
// pays this per line; ingest (connection -> SQL writer) never does. The
// issue's load is 1 000 lines/s to 200 streams: the ns/op at 200 times 1 000
// is the share of one core it costs.
func BenchmarkChatFanout(b *testing.B) {
	for _, n := range []int{0, 200} {
		b.Run(strconv.Itoa(n)+"_streams", func(b *testing.B) {
			h := hub.New()
			var wg sync.WaitGroup
			subs := make([]*hub.Sub, n)
			for i := range subs {
				subs[i] = h.Subscribe("c", b.N+1)
				wg.Add(1)
				go func(s *hub.Sub) {
					defer wg.Done()
					for {
						select {
						case <-s.Events():
						case <-s.Dropped():
							return
						}
					}
				}(subs[i])
			}
			b.ResetTimer()
			for range b.N {
				h.Chat("c", "alice", "hello everyone, what are we watching tonight?", t0, false)
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
