package sqlwriter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/messages"
)

// Intake extends the writer's byte budget (MaxBufferedBytes) to the
// connections' readers. It counts every byte of events the writer holds:
// those a reader has sent that still wait in the writer's actor mailbox
// (otherwise unbounded), the writer's queue, and the batch or spill append
// in progress. A reader asks Wait before it sends an event and, while the
// count is at the budget, stops reading its socket, so TCP flow control
// slows the server down instead of the process growing. The writer keeps
// its queue under half the budget by moving it to the spill file, so the
// readers only wait while the disk or the database catches up.
//
// Waiting is bounded: when the writer has made no room for the pause limit
// (stopped, stuck, or unable to write to the database or the disk), Wait
// gives up with ErrIntakeStalled and lets every reader through until the
// writer is under its budget again, so a reader is never blocked for good
// and a missing writer never freezes the connections. It is safe for concurrent use; one Intake is shared by every
// connection feeding one writer.
type Intake struct {
	maxPause time.Duration
	clk      clock.Clock

	mu      sync.Mutex
	limit   int64         // the writer's MaxBufferedBytes
	mailbox int64         // bytes sent and not yet accepted
	held    int64         // bytes of the records the writer holds
	room    chan struct{} // closed while there is room (see open)
	stalled bool          // a wait gave up; nobody waits until there is room again
}

// ErrIntakeStalled says the writer made no room for the whole pause: the
// reader should log it and read on.
var ErrIntakeStalled = errors.New("the chat-log writer took no event in time")

// DefaultIntakePause bounds one wait. CyTube's pingTimeout is 120 s, so a
// pause this short never costs the connection, and a writer that accepts
// nothing for this long is not coming back soon.
const DefaultIntakePause = 2 * time.Second

// mailboxLimit is how many bytes of events may wait in the mailbox: enough
// that the writer always has work (a thousand chat lines), little enough
// that the decoded events readers keep sending (their bodies weigh more
// than the raw bytes counted) stay a small part of the budget.
const mailboxLimit = 1 << 20

// eventOverhead approximates the heap an event holds besides its raw
// payload: the struct, the decoded body and its strings.
const eventOverhead = 512

// NewIntake returns the gauge for one writer; give it to the writer
// (Config.Intake), which sets its limit, and to the connections. A nil clk
// is the real clock.
func NewIntake(clk clock.Clock) *Intake {
	if clk == nil {
		clk = clock.Real()
	}
	room := make(chan struct{})
	close(room)
	return &Intake{maxPause: DefaultIntakePause, clk: clk, limit: DefaultMaxBufferedBytes, room: room}
}

// eventCost is what one event counts while it waits in the mailbox. Sender
// and writer must count an event alike, so both use this.
func eventCost(ev *messages.Event) int64 { return int64(len(ev.Raw)) + eventOverhead }

// Wait returns at once while there is room, and otherwise when the writer
// made room, ctx ended (its error), or the writer took nothing for the
// pause limit (ErrIntakeStalled). A nil Intake never waits.
func (in *Intake) Wait(ctx context.Context) error {
	if in == nil {
		return nil
	}
	in.mu.Lock()
	if in.open() || in.stalled {
		in.mu.Unlock()
		return nil
	}
	room := in.room
	in.mu.Unlock()

	expired := make(chan struct{})
	t := in.clk.AfterFunc(in.maxPause, func() { close(expired) })
	defer t.Stop()
	select {
	case <-room:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the chat-log writer: %w", ctx.Err())
	case <-expired:
		in.mu.Lock()
		in.stalled = true
		level := in.mailbox + in.held
		in.mu.Unlock()
		return fmt.Errorf("%w (%d bytes held, waited %s); reading on", ErrIntakeStalled, level, in.maxPause)
	}
}

// Sent counts an event handed to the writer. A nil Intake ignores it.
func (in *Intake) Sent(ev *messages.Event) {
	if in == nil || ev == nil {
		return
	}
	in.update(func() { in.mailbox += eventCost(ev) })
}

// accepted releases an event the writer took from its mailbox.
func (in *Intake) accepted(ev *messages.Event) {
	if in == nil {
		return
	}
	in.update(func() {
		// Events sent without Sent (directly, or before a restart of the
		// process) are released too; they never earn readers credit.
		in.mailbox = max(0, in.mailbox-eventCost(ev))
	})
}

// hold sets the bytes of records the writer holds (its queue and the job
// in progress).
func (in *Intake) hold(bytes int64) {
	if in == nil {
		return
	}
	in.update(func() { in.held = bytes })
}

// setLimit makes the writer's budget the readers' limit.
func (in *Intake) setLimit(limit int64) {
	if in == nil {
		return
	}
	in.update(func() { in.limit = limit })
}

func (in *Intake) update(change func()) {
	in.mu.Lock()
	defer in.mu.Unlock()
	wasOpen := in.open()
	change()
	switch open := in.open(); {
	case wasOpen && !open:
		in.room = make(chan struct{})
	case !wasOpen && open:
		close(in.room)
	}
	if in.open() {
		in.stalled = false // the writer caught up: readers wait on it again
	}
}

// open tells whether a reader may send: the mailbox is short and the
// writer holds less than its budget.
func (in *Intake) open() bool {
	return in.mailbox < mailboxLimit && in.mailbox+in.held < in.limit
}

// Level is the bytes of events the writer holds or has yet to accept.
func (in *Intake) Level() int64 {
	if in == nil {
		return 0
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.mailbox + in.held
}
