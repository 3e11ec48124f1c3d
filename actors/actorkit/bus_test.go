package actorkit

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// TestBusDeliversToLiveSubscribersInOrder subscribes five handlers, drops
// some (enough to compact the list in some cases) and checks who hears the
// next publish, in which order, and that later subscribers still join.
func TestBusDeliversToLiveSubscribersInOrder(t *testing.T) {
	tests := []struct {
		name   string
		drop   []int
		want   []int // after the drops and one more subscriber (5)
		maxLen int   // entries kept, dead ones included
	}{
		{name: "none dropped", drop: nil, want: []int{0, 1, 2, 3, 4, 5}, maxLen: 6},
		{name: "one dropped, list kept", drop: []int{2}, want: []int{0, 1, 3, 4, 5}, maxLen: 6},
		{name: "most dropped, list rebuilt", drop: []int{0, 3, 4}, want: []int{1, 2, 5}, maxLen: 3},
		{name: "all dropped", drop: []int{4, 3, 2, 1, 0}, want: []int{5}, maxLen: 1},
		{name: "dropped twice counts once", drop: []int{1, 1}, want: []int{0, 2, 3, 4, 5}, maxLen: 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bus
			var got []int
			subs := make([]*subscriber, 6)
			for i := range 5 {
				subs[i] = b.subscribe(func(any) { got = append(got, i) })
			}
			for _, i := range tc.drop {
				b.unsubscribe(subs[i])
			}
			b.subscribe(func(any) { got = append(got, 5) })
			b.publish(announce{})
			if !slices.Equal(got, tc.want) {
				t.Fatalf("delivered to %v, want %v", got, tc.want)
			}
			if len(b.subs) > tc.maxLen {
				t.Fatalf("%d entries kept, want at most %d", len(b.subs), tc.maxLen)
			}
		})
	}
}

// TestBusUnsubscribeDuringPublish: a handler that ends its own and a later
// subscription while a publish is under way stops the later one at once and
// leaves the publish's snapshot intact.
func TestBusUnsubscribeDuringPublish(t *testing.T) {
	var b bus
	var got []string
	var first, second *subscriber
	first = b.subscribe(func(any) {
		got = append(got, "first")
		b.unsubscribe(first)
		b.unsubscribe(second)
		b.subscribe(func(any) { got = append(got, "new") })
	})
	second = b.subscribe(func(any) { got = append(got, "second") })
	b.publish(announce{})
	b.publish(announce{})
	if want := []string{"first", "new"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

// TestBusConcurrentUse is for -race: publishers read the list while others
// subscribe and unsubscribe.
func TestBusConcurrentUse(t *testing.T) {
	var b bus
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				sub := b.subscribe(func(any) {})
				b.publish(announce{})
				b.unsubscribe(sub)
			}
		})
	}
	wg.Wait()
	b.publish(announce{})
	if b.dead != 0 && b.dead*2 >= len(b.subs) {
		t.Fatalf("%d dead of %d entries left uncompacted", b.dead, len(b.subs))
	}
}

// TestProtoactorEventsReachSubscribers: what protoactor itself broadcasts
// (here a dead letter) still reaches SubscribeFunc handlers.
func TestProtoactorEventsReachSubscribers(t *testing.T) {
	sys := NewSystem(nil, nil)
	got := make(chan *actor.DeadLetterEvent, 1)
	defer sys.SubscribeFunc(func(m any) {
		if d, ok := m.(*actor.DeadLetterEvent); ok {
			select {
			case got <- d:
			default:
			}
		}
	})()
	sys.Send(sys.as.NewLocalPID("nobody"), ping{n: 1})
	select {
	case d := <-got:
		if d.Message != (ping{n: 1}) {
			t.Fatalf("dead letter carried %v, want the ping", d.Message)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no dead letter event within 5 s")
	}
}
