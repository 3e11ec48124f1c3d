// Package actortest holds the few helpers every test of daz needs: polling
// for a condition instead of sleeping, and a logger that writes into the
// test log.
package actortest

import (
	"testing"
	"time"
)

// CheckFor polls cond every few milliseconds until it holds or timeout
// passes, then fails the test with what. Tests use it instead of sleeping.
func CheckFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !WaitFor(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// WaitFor polls cond until it holds (true) or timeout passes (false). Unlike
// CheckFor it may run on goroutines other than the test's.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}
