package connection_test

import (
	"strings"
	"testing"

	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/internal/testutil"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
)

// BenchmarkBigChannelSession replays the 600-user channel recording (1.96 MB,
// two 733 KB playlists) from discovery to the last event in the sink.
func BenchmarkBigChannelSession(b *testing.B) {
	lines := transcript.MustLoad(b, "big_channel")
	events := 0
	var bytes int64
	for _, f := range transcript.Frames(transcript.ByConn(lines, "bot"), "", transcript.DirIn) {
		bytes += int64(len(f))
		if strings.HasPrefix(f, `42[`) {
			events++
		}
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	for b.Loop() {
		replay := sandboxtest.NewReplay(b, lines, sandboxtest.ReplayOptions{})
		rig := NewRig(b, RigConfig{Conn: connection.Config{
			Channel: "bigchan", ServerURL: replay.URL(), Username: "dazbot", Password: "dazbot-test-pw",
		}})
		testutil.CheckFor(b, wait, "all events", func() bool { return len(rig.Sink.Events()) == events })
		rig.Stop(b)
		replay.Close()
	}
}
