package sqlwriter

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/messages"
)

func intakeEvent(size int) *messages.Event {
	return &messages.Event{Name: "chatMsg", Raw: make([]byte, size)}
}

// waitResult runs Wait on its own goroutine, as a reader would.
func waitResult(in *Intake, ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() { done <- in.Wait(ctx) }()
	return done
}

func TestIntakeHoldsReadersUntilTheWriterAccepts(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(testStart)
	in := NewIntake(clk)
	big := intakeEvent(mailboxLimit)
	if err := in.Wait(context.Background()); err != nil {
		t.Fatalf("empty intake waited: %v", err)
	}
	in.Sent(big)
	done := waitResult(in, context.Background())
	waitForTimer(t, clk) // it blocks: it armed its pause timer
	in.accepted(big)
	if err := <-done; err != nil {
		t.Fatalf("Wait after the writer accepted: %v", err)
	}
	if in.Level() != 0 {
		t.Fatalf("level %d after accepting everything", in.Level())
	}
}

func TestIntakeHoldsReadersWhileTheWriterHoldsItsBudget(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(testStart)
	in := NewIntake(clk)
	in.setLimit(1 << 20)
	in.hold(1 << 20)
	done := waitResult(in, context.Background())
	waitForTimer(t, clk)
	in.hold(1 << 19) // a batch was written
	if err := <-done; err != nil {
		t.Fatalf("Wait after the writer made room: %v", err)
	}
}

// A writer that makes no room (stopped, stuck) holds a reader back for the
// pause limit once; after that readers pass until it is under its budget.
func TestIntakeGivesUpOnAStalledWriter(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(testStart)
	in := NewIntake(clk)
	ev := intakeEvent(mailboxLimit)
	in.Sent(ev)
	done := waitResult(in, context.Background())
	waitForTimer(t, clk)
	clk.Advance(DefaultIntakePause)
	if err := <-done; !errors.Is(err, ErrIntakeStalled) {
		t.Fatalf("Wait on a stalled writer = %v, want ErrIntakeStalled", err)
	}
	in.Sent(ev)
	in.accepted(ev) // accepting alone makes no room: still one over
	if err := in.Wait(context.Background()); err != nil {
		t.Fatalf("Wait on a stalled writer after the pause: %v, want no wait", err)
	}
	in.accepted(ev) // room again: readers wait on it once more
	in.Sent(ev)
	done = waitResult(in, context.Background())
	waitForTimer(t, clk)
	in.accepted(ev)
	if err := <-done; err != nil {
		t.Fatalf("Wait after the writer caught up: %v", err)
	}
}

func TestIntakeWaitEndsWithItsContext(t *testing.T) {
	t.Parallel()
	in := NewIntake(clock.NewFake(testStart))
	in.Sent(intakeEvent(mailboxLimit))
	ctx, cancel := context.WithCancel(context.Background())
	done := waitResult(in, ctx)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancel = %v", err)
	}
}

// waitForTimer returns once a Wait has armed its pause timer.
func waitForTimer(t *testing.T, clk *clock.Fake) {
	t.Helper()
	actortest.CheckFor(t, 10*time.Second, "Wait to arm its pause timer", func() bool { return len(clk.Pending()) > 0 })
}

// The writer releases what it accepted and what it wrote: once a burst is
// committed the gauge is back to zero.
func TestWriterReleasesTheIntake(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	in := NewIntake(nil)
	h := startWriter(t, Config{DatabaseURL: dbURL, Intake: in}, false)
	const n = 200
	for seq := uint64(1); seq <= n; seq++ {
		ev := floodEvent(t, "intake", seq, testStart)
		if err := in.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		in.Sent(ev)
		h.send(ev)
	}
	h.waitFor("every event written", 0, func() bool { return countRows(t, pool, "") == n })
	h.waitFor("the gauge released", 0, func() bool { return in.Level() == 0 })
}
