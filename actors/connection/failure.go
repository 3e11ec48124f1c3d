package connection

import (
	"fmt"
	"strings"
)

// Kind classifies why a connection attempt ended; the supervisor strategy
// picks its policy from it.
type Kind string

// The failure kinds.
const (
	KindConfig           Kind = "config"            // bad Config: never retried
	KindDiscovery        Kind = "discovery"         // socketconfig unreachable or unusable
	KindInvalidChannel   Kind = "invalid-channel"   // the server rejects the channel name
	KindDial             Kind = "dial"              // websocket refused
	KindHandshakeTimeout Kind = "handshake-timeout" // not online within HandshakeTimeout
	KindProtocol         Kind = "protocol"          // the server broke the protocol
	KindRateLimited      Kind = "rate-limited"      // 44 {"message":"Rate limit exceeded"}
	KindClosed           Kind = "closed"            // socket closed, 41 or engine.io close
	KindDeadLink         Kind = "dead-link"         // no ping for pingInterval+pingTimeout
	KindKicked           Kind = "kicked"            // a kick with any other reason
	KindDuplicateLogin   Kind = "duplicate-login"   // our account logged in elsewhere
	KindBanned           Kind = "banned"            // banned from the channel
	KindBadCredentials   Kind = "bad-credentials"   // login refused: password, unknown user, name
	KindGuestLimit       Kind = "guest-limit"       // one guest login per IP per 60 s
	KindNeedPassword     Kind = "need-password"     // channel password missing or wrong
	KindPartitionChange  Kind = "partition-change"  // the server moved the channel
	KindInternal         Kind = "internal"          // a bug in daz (unexpected panic)
)

// Failure is the reason a connection actor fails. It is an expected failure:
// logged with context, without a stack, and handed to the supervisor.
type Failure struct {
	Kind Kind
	// Text is the server's own words when there are any (a kick reason, a
	// login error), for logs and the persisted retry state.
	Text string
	Err  error
}

func (f *Failure) Error() string {
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
func (f *Failure) Unwrap() error { return f.Err }

// ExpectedFailure marks the failure as deliberate for actorkit.
func (f *Failure) ExpectedFailure() {}

func fail(kind Kind, text string, err error) *Failure {
	return &Failure{Kind: kind, Text: text, Err: err}
}

// Kick reasons CyTube 3.x sends, as recorded.
const (
	kickDuplicateLogin = "Duplicate login"
	kickBanned         = "You're banned!"
	kickBannedRejoin   = "You are banned from this channel."
	kickInvalidChannel = "Invalid channel name"
)

// kickKind maps a kick reason to its failure kind.
func kickKind(reason string) Kind {
	switch strings.TrimSpace(reason) {
	case kickDuplicateLogin:
		return KindDuplicateLogin
	case kickBanned, kickBannedRejoin:
		return KindBanned
	case kickInvalidChannel:
		return KindInvalidChannel
	}
	return KindKicked
}

// loginErrorKind maps a login failure text to its kind. Everything but the
// guest throttle means our credentials or name are wrong; cytu.be
// rate-limits logins, so those are never retried in a loop.
func loginErrorKind(text string) Kind {
	if strings.Contains(text, "Guest logins are restricted") {
		return KindGuestLimit
	}
	return KindBadCredentials
}
