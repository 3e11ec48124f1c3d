package supervision

import (
	"time"

	"github.com/daz-bot/daz/messages"
)

// AttemptSource tells a starting connection which attempt it is and when it
// may begin, and hears when an attempt logged in. It is safe for concurrent
// use. The connection reports the login itself, on its own goroutine, so
// the report can never arrive after the failure of the same attempt (a
// state message to the parent can: protoactor hands failures to the
// supervisor ahead of queued messages).
type AttemptSource interface {
	BeginAttempt() AttemptInfo
	LoginConfirmed()
}

// AttemptInfo answers BeginAttempt. When NotBefore lies in the future the
// connection shows WaitState until NotBefore and then asks again.
type AttemptInfo struct {
	Number    int
	LastError string
	NotBefore time.Time
	WaitState messages.ConnState // StateBackingOff or StateCoolingDown
}
