package messages

import "time"

// ConnState names a phase of a channel connection's life.
type ConnState string

// The connection states shown on the debug endpoint.
const (
	StateDiscovering ConnState = "discovering"
	StateConnecting  ConnState = "connecting"
	StateJoining     ConnState = "joining"
	StateLoggingIn   ConnState = "logging in"
	StateOnline      ConnState = "online"
	StateBackingOff  ConnState = "backing off"
	StateCoolingDown ConnState = "cooling down"
	// StateWaitingForSlot: the daemon holds as many sockets to the channel's
	// server as the server allows one address (or its connects are paced);
	// the channel connects when one closes. Not a failure: no attempt is
	// counted and no retry delay grows meanwhile.
	StateWaitingForSlot ConnState = "waiting for a connection slot"
	StateStopped        ConnState = "stopped"
)

// ConnectionState is published whenever a channel connection changes phase
// (topic cytube.connection.state). Until is set for backing off and cooling
// down, and for waiting for a slot when the pacer has named the time;
// Reason is set for stopped, and says why for waiting for a slot.
type ConnectionState struct {
	Channel   string    `json:"channel"`
	State     ConnState `json:"state"`
	Attempt   int       `json:"attempt"`
	Until     time.Time `json:"until,omitzero"`
	Reason    string    `json:"reason,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	At        time.Time `json:"at"`
	Username  string    `json:"username,omitempty"` // our login name once online
	Rank      float64   `json:"rank,omitempty"`
}
