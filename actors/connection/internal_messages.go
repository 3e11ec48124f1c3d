package connection

import (
	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/messages"
)

// Messages the connection sends itself. Each carries the attempt (or actor
// instance) it belongs to; the actor drops those of attempts it abandoned,
// which also covers messages left in the mailbox across a restart.
type (
	discovered struct {
		at    *attempt
		wsURL string
	}
	attemptFailed struct {
		at      *attempt
		failure *messages.ConnectionFailure
	}
	readFailed struct {
		at  *attempt
		err error
	}
	serverPacket struct {
		at     *attempt
		packet frame.Packet
	}
	serverEvent struct {
		at *attempt
		ev *messages.Event
	}
	handshakeTimedOut struct{ at *attempt }
	livenessCheck     struct{ at *attempt }
	passwordGraceOver struct{ at *attempt }
	beginAttempt      struct{ owner *connActor }
	// sendConnect: the server gate's turn for this socket's "40" came.
	sendConnect struct{ at *attempt }
	// slotReady: the server gate let this incarnation's ticket connect.
	slotReady struct{ owner *connActor }
)
