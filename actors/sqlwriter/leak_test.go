package sqlwriter

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/messages"
)

// A stopped writer leaves no goroutine behind: not its flusher, not its
// request workers, not its pools' health checks.
func TestStoppedWriterLeavesNoGoroutines(t *testing.T) {
	dbURL := testpg.NewMigrated(t)
	ignore := goleak.IgnoreCurrent()
	h := startWriter(t, Config{DatabaseURL: dbURL, BatchSize: 1}, true)
	h.send(floodEvent(t, "leak", 1, testStart))
	if r := h.request(&messages.SQLRequest{ID: 1, Kind: messages.SQLQuery, Query: "SELECT 1"}); r.Err != nil {
		t.Fatal(r.Err)
	}
	h.stop()
	goleak.VerifyNone(t, ignore)
}
