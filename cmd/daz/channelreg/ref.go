package channelreg

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// Ref kinds. A reference names where a password is found, never the password.
const (
	RefEnv    = "env"    // env:NAME — the daemon's environment variable NAME
	RefFile   = "file"   // file:/abs/path — the file's content, trailing newline trimmed
	RefConfig = "config" // this daemon's own configuration (channels seeded from the config file)
)

// maxSecretFile bounds what a file: reference reads: a password file is a
// line, and a reference to the wrong file should fail, not load a log.
const maxSecretFile = 64 << 10

var envVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidateRef checks that ref is a reference daz can resolve: empty (no
// password), env:NAME, file:/absolute/path or config. Anything else is
// refused, above all a password typed where its reference belongs; the error
// does not repeat ref for that reason.
func ValidateRef(ref string) error {
	if ref == "" || ref == RefConfig {
		return nil
	}
	kind, arg, ok := strings.Cut(ref, ":")
	switch {
	case !ok:
		return errors.New("a password reference must be env:NAME, file:/path or config (the password itself is never stored)")
	case kind == RefEnv:
		if !envVarName.MatchString(arg) {
			return errors.New("env: reference needs an environment variable name (letters, digits, _), as in env:DAZ_BOT_PASSWORD")
		}
		return nil
	case kind == RefFile:
		if !strings.HasPrefix(arg, "/") {
			// Every daemon resolves it from its own working directory.
			return errors.New("file: reference needs an absolute path, as in file:/etc/daz/bot-password")
		}
		return nil
	default:
		// The part before ':' may be the start of a password: not echoed.
		return errors.New("unknown password reference kind: use env:NAME, file:/path or config")
	}
}

// ResolveSecret returns the password ref points at; an empty ref gives an
// empty password (none configured). environ is looked up for env:
// references (the first NAME=value wins, as os.Getenv does); fromConfig
// answers config references and reports false when this daemon's
// configuration has no such password. Errors name the reference, never the
// value.
func ResolveSecret(ref string, environ []string, fromConfig func() (string, bool)) (string, error) {
	if ref == "" {
		return "", nil
	}
	if err := ValidateRef(ref); err != nil {
		return "", fmt.Errorf("password reference: %w", err)
	}
	if ref == RefConfig {
		if fromConfig == nil {
			return "", errors.New("password reference config: this daemon's configuration has no password for the channel")
		}
		v, ok := fromConfig()
		if !ok || v == "" {
			return "", errors.New("password reference config: this daemon's configuration has no password for the channel")
		}
		return v, nil
	}
	kind, arg, _ := strings.Cut(ref, ":")
	if kind == RefEnv {
		for _, kv := range environ {
			if k, v, ok := strings.Cut(kv, "="); ok && k == arg {
				if v == "" {
					return "", fmt.Errorf("password reference %s: environment variable %s is empty", ref, arg)
				}
				return v, nil
			}
		}
		return "", fmt.Errorf("password reference %s: environment variable %s is not set", ref, arg)
	}
	v, err := readSecretFile(arg)
	if err != nil {
		return "", fmt.Errorf("password reference %s: %w", ref, err)
	}
	return v, nil
}

func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open: %w", err)
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("read: %w", err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("file is larger than %d bytes; a password file holds one line", maxSecretFile)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", errors.New("file is empty")
	}
	return v, nil
}
