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
	StateStopped     ConnState = "stopped"
)

// ConnectionState is published whenever a channel connection changes phase
// (topic cytube.connection.state). Until is set for backing off and cooling
// down; Reason is set for stopped.
type ConnectionState struct {
	Channel   string
	State     ConnState
	Attempt   int
	Until     time.Time
	Reason    string
	LastError string
	At        time.Time
	Username  string // our login name once online
	Rank      float64
}
