package sandbox

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves server, connection or client
// goroutines behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
