package clock

import (
	"testing"
	"time"
)

func TestFakeRunsCallbacksInDeadlineOrder(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewFake(start)
	var got []string
	c.AfterFunc(3*time.Second, func() { got = append(got, "c") })
	c.AfterFunc(1*time.Second, func() { got = append(got, "a") })
	stopped := c.AfterFunc(2*time.Second, func() { got = append(got, "never") })
	c.AfterFunc(2*time.Second, func() {
		got = append(got, "b")
		// A callback scheduling another one inside the window still runs.
		c.AfterFunc(500*time.Millisecond, func() { got = append(got, "b2") })
	})
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	c.Advance(2500 * time.Millisecond)
	if want := []string{"a", "b", "b2"}; !equal(got, want) {
		t.Fatalf("after 2.5s ran %v, want %v", got, want)
	}
	if p := c.Pending(); len(p) != 1 || !p[0].Equal(start.Add(3*time.Second)) {
		t.Fatalf("pending = %v", p)
	}
	c.Advance(time.Second)
	if want := []string{"a", "b", "b2", "c"}; !equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	if stopped.Stop() {
		t.Fatal("second Stop reported true")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
