package frame

import (
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
)

// recordedEventFrame returns the first recorded in-frame of the named event
// that is at least minLen bytes long and contains the given text.
func recordedEventFrame(b *testing.B, file, event string, minLen int, contains string) []byte {
	b.Helper()
	prefix := `42["` + event + `",`
	for _, l := range transcript.MustLoad(b, file) {
		if l.Dir == transcript.DirIn && strings.HasPrefix(l.Frame, prefix) && len(l.Frame) >= minLen &&
			strings.Contains(l.Frame, contains) {
			return []byte(l.Frame)
		}
	}
	b.Fatalf("no %s frame of %d+ bytes with %q in %s", event, minLen, contains, file)
	return nil
}

func benchmarkDecode(b *testing.B, frame []byte) {
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	received := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := Parse(frame)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := EventFromPacket("testchan", uint64(i), received, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// A chat line with a link: the hot path, every chat line goes through it.
func BenchmarkDecodeChatMsg(b *testing.B) {
	benchmarkDecode(b, recordedEventFrame(b, "chat_and_presence", "chatMsg", 0, "<a href="))
}

func BenchmarkDecodeChatMsgPlain(b *testing.B) {
	benchmarkDecode(b, []byte(`42["chatMsg",{"username":"viewer507","msg":"hello everyone","meta":{},"time":1795722086734}]`))
}

// The whole 2000-item playlist arrives as one 733 KB frame, twice per join.
func BenchmarkDecodePlaylist(b *testing.B) {
	benchmarkDecode(b, recordedEventFrame(b, "big_channel", "playlist", 700_000, ""))
}

func BenchmarkDecodeUserlist(b *testing.B) {
	benchmarkDecode(b, recordedEventFrame(b, "big_channel", "userlist", 90_000, ""))
}

func BenchmarkPlainTextLink(b *testing.B) {
	msg := `link: <a href="http://127.0.0.1:8080/r/testchan" target="_blank" rel="noopener noreferrer">http://127.0.0.1:8080/r/testchan</a> and &amp; more`
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = PlainText(msg)
	}
}

// Hostile markup must stay linear (it was quadratic once, found by fuzzing).
func BenchmarkPlainTextUnterminatedTags(b *testing.B) {
	msg := strings.Repeat(`<a b="`, 20_000)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = PlainText(msg)
	}
}

func BenchmarkEncodeChatMsg(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := EncodeChatMsg("alice was last seen just now", nil); err != nil {
			b.Fatal(err)
		}
	}
}
