package messages

import "fmt"

// FailureKind classifies why a connection attempt ended; the connection's
// supervisor strategy picks its policy from it.
type FailureKind string

// The failure kinds.
const (
	FailConfig           FailureKind = "config"            // bad Config: never retried
	FailDiscovery        FailureKind = "discovery"         // socketconfig unreachable or unusable
	FailInvalidChannel   FailureKind = "invalid-channel"   // the server rejects the channel name
	FailDial             FailureKind = "dial"              // websocket refused
	FailHandshakeTimeout FailureKind = "handshake-timeout" // not online within HandshakeTimeout
	FailProtocol         FailureKind = "protocol"          // the server broke the protocol
	FailRateLimited      FailureKind = "rate-limited"      // 44 {"message":"Rate limit exceeded"}
	FailClosed           FailureKind = "closed"            // socket closed, 41 or engine.io close
	FailDeadLink         FailureKind = "dead-link"         // no ping for pingInterval+pingTimeout
	FailKicked           FailureKind = "kicked"            // a kick with any other reason
	FailDuplicateLogin   FailureKind = "duplicate-login"   // our account logged in elsewhere
	FailBanned           FailureKind = "banned"            // banned from the channel
	FailBadCredentials   FailureKind = "bad-credentials"   // login refused: password, unknown user, name
	FailGuestLimit       FailureKind = "guest-limit"       // one guest login per IP per 60 s
	FailNeedPassword     FailureKind = "need-password"     // channel password missing or wrong
	FailPartitionChange  FailureKind = "partition-change"  // the server moved the channel
	FailInternal         FailureKind = "internal"          // a bug in daz (unexpected panic)
)

// ConnectionFailure is the reason a connection actor fails: the message
// between a connection and its supervisor strategy, which reads Kind. It is
// an expected failure (actorkit.ExpectedFailure): logged with context,
// without a stack.
type ConnectionFailure struct {
	Kind FailureKind
	// Text is the server's own words when there are any (a kick reason, a
	// login error), for logs and the persisted retry state.
	Text string
	Err  error
}

func (f *ConnectionFailure) Error() string {
	switch {
	case f.Text != "" && f.Err != nil:
		return fmt.Sprintf("%s: %s: %v", f.Kind, f.Text, f.Err)
	case f.Text != "":
		return fmt.Sprintf("%s: %s", f.Kind, f.Text)
	case f.Err != nil:
		return fmt.Sprintf("%s: %v", f.Kind, f.Err)
	}
	return string(f.Kind)
}

// Unwrap exposes the underlying error.
func (f *ConnectionFailure) Unwrap() error { return f.Err }

// ExpectedFailure marks the failure as deliberate for actorkit.
func (f *ConnectionFailure) ExpectedFailure() {}
