// Package testutil holds the few helpers every actor test needs.
package testutil

import (
	"testing"
	"time"
)

// CheckFor polls cond every few milliseconds until it holds or timeout
// passes, then fails the test with what. Tests use it instead of sleeping.
func CheckFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
