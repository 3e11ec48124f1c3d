package connection

import (
	"strings"

	"github.com/daz-bot/daz/messages"
)

func fail(kind messages.FailureKind, text string, err error) *messages.ConnectionFailure {
	return &messages.ConnectionFailure{Kind: kind, Text: text, Err: err}
}

// Kick reasons CyTube 3.x sends, as recorded.
const (
	kickDuplicateLogin = "Duplicate login"
	kickBanned         = "You're banned!"
	kickBannedRejoin   = "You are banned from this channel."
	kickInvalidChannel = "Invalid channel name"
)

// kickKind maps a kick reason to its failure kind.
func kickKind(reason string) messages.FailureKind {
	switch strings.TrimSpace(reason) {
	case kickDuplicateLogin:
		return messages.FailDuplicateLogin
	case kickBanned, kickBannedRejoin:
		return messages.FailBanned
	case kickInvalidChannel:
		return messages.FailInvalidChannel
	}
	return messages.FailKicked
}

// loginErrorKind maps a login failure text to its kind. Everything but the
// guest throttle means our credentials or name are wrong; cytu.be
// rate-limits logins, so those are never retried in a loop.
func loginErrorKind(text string) messages.FailureKind {
	if strings.Contains(text, "Guest logins are restricted") {
		return messages.FailGuestLimit
	}
	return messages.FailBadCredentials
}
