package channelreg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateRef(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ref  string
		want string // "" accepts; otherwise a fragment of the error
	}{
		{"", ""},
		{"config", ""},
		{"env:DAZ_BOT_PASSWORD", ""},
		{"env:_x1", ""},
		{"file:/etc/daz/pw", ""},
		{"hunter2", "env:NAME, file:/path or config"},
		{"env:", "environment variable name"},
		{"env:1BAD", "environment variable name"},
		{"env:A-B", "environment variable name"},
		{"file:relative/pw", "absolute path"},
		{"file:", "absolute path"},
		{"vault:secret/x", "unknown password reference kind"},
		{"Config", "env:NAME, file:/path or config"},
	}
	for _, tc := range cases {
		err := ValidateRef(tc.ref)
		if tc.want == "" {
			if err != nil {
				t.Errorf("ValidateRef(%q) = %v, want nil", tc.ref, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ValidateRef(%q) = %v, want an error with %q", tc.ref, err, tc.want)
		}
	}
	// A password typed where its reference goes must not be echoed.
	for _, secret := range []string{"s3cret-pass", "s3cret:pass"} {
		if err := ValidateRef(secret); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ValidateRef(%q) = %v: accepted or echoed", secret, err)
		}
	}
}

func TestResolveSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pw := write("pw", "file-secret\n")
	crlf := write("crlf", "crlf-secret\r\n")
	empty := write("empty", "\n")
	big := write("big", strings.Repeat("x", maxSecretFile+1))
	environ := []string{"DAZ_PW=env-secret", "DAZ_EMPTY=", "DAZ_PW=later-ignored"}
	fromConfig := func() (string, bool) { return "config-secret", true }
	noConfig := func() (string, bool) { return "", false }

	cases := []struct {
		name       string
		ref        string
		fromConfig func() (string, bool)
		want       string
		wantErr    string
	}{
		{"none", "", nil, "", ""},
		{"env", "env:DAZ_PW", nil, "env-secret", ""},
		{"env unset", "env:DAZ_MISSING", nil, "", "password reference env:DAZ_MISSING: environment variable DAZ_MISSING is not set"},
		{"env empty", "env:DAZ_EMPTY", nil, "", "DAZ_EMPTY is empty"},
		{"file", "file:" + pw, nil, "file-secret", ""},
		{"file crlf", "file:" + crlf, nil, "crlf-secret", ""},
		{"file missing", "file:" + filepath.Join(dir, "nope"), nil, "", "password reference file:"},
		{"file empty", "file:" + empty, nil, "", "file is empty"},
		{"file too big", "file:" + big, nil, "", "larger than"},
		{"config", "config", fromConfig, "config-secret", ""},
		{"config absent", "config", noConfig, "", "password reference config: this daemon's configuration has no password"},
		{"config without a source", "config", nil, "", "password reference config"},
		{"rejected kind", "vault:x", nil, "", "unknown password reference kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveSecret(tc.ref, environ, tc.fromConfig)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ResolveSecret(%q) = %q, %v; want an error with %q", tc.ref, got, err, tc.wantErr)
				}
				for _, secret := range []string{"env-secret", "file-secret", "config-secret", "xxxx"} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("error leaks a secret: %v", err)
					}
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ResolveSecret(%q) = %q, %v; want %q", tc.ref, got, err, tc.want)
			}
		})
	}
}
