package frame

import (
	"fmt"
	"testing"

	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
)

// recorded is one websocket frame from a transcript.
type recorded struct {
	file  string
	line  int // 1-based line in the file
	conn  string
	dir   string
	frame string
}

func (r recorded) String() string {
	return fmt.Sprintf("%s.jsonl:%d (%s %s)", r.file, r.line, r.conn, r.dir)
}

// recordedFrames returns every websocket frame of every transcript in the
// given direction (transcript.DirIn or DirOut).
func recordedFrames(t testing.TB, dir string) []recorded {
	t.Helper()
	var out []recorded
	for _, name := range transcript.MustNames(t) {
		for i, l := range transcript.MustLoad(t, name) {
			if l.Dir == dir {
				out = append(out, recorded{file: name, line: i + 1, conn: l.Conn, dir: l.Dir, frame: l.Frame})
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s frames recorded", dir)
	}
	return out
}
