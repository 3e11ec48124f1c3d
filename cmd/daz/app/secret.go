package app

import (
	"log/slog"
	"strings"
)

// Secret holds a password, token or credential-bearing URL. Every way of
// printing it (fmt, slog, JSON) shows a placeholder, so a secret can sit in
// options that are logged without ever reaching a log line.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself, for the one place that must send it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether a secret was configured.
func (s Secret) IsSet() bool { return s != "" }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders from printing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Redact replaces the secret wherever it appears in text, for error texts a
// driver may have built from a credential-bearing URL.
func (s Secret) Redact(text string) string {
	if s == "" {
		return text
	}
	return strings.ReplaceAll(text, string(s), redacted)
}
