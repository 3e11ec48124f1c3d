package logger

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// tailBytes is how much of the newest file is read at start to find where
// the log stopped; one second of chat fits many times over.
const tailBytes = 64 << 10

// mark is the point the text log has reached in server time, so a join
// burst's replay writes only the lines said while daz was away. The file
// keeps seconds only, so the mark is a second and the chat lines written
// in it (a multiset: the same line can be said twice in one second).
type mark struct {
	at      time.Time      // last second of a chat line written
	written map[string]int // chat lines written in that second
	// replayed counts the lines of the current replay matched against
	// written; a new socket (Seq not growing) or a live line starts over.
	replayed map[string]int
	lastSeq  uint64
}

// live records a chat line written as it happened.
func (m *mark) live(at time.Time, line string) {
	m.replayed, m.lastSeq = nil, 0
	m.advance(at, line)
}

// backlog tells whether a replayed chat line is new to the file, and if so
// records it as written.
func (m *mark) backlog(seq uint64, at time.Time, line string) bool {
	if seq != 0 && seq <= m.lastSeq {
		m.replayed = nil
	}
	m.lastSeq = seq
	at = at.Truncate(time.Second)
	switch {
	case at.Before(m.at):
		return false
	case at.Equal(m.at):
		if m.replayed[line] < m.written[line] {
			m.count(line)
			return false
		}
	}
	m.advance(at, line)
	m.count(line)
	return true
}

func (m *mark) advance(at time.Time, line string) {
	at = at.Truncate(time.Second)
	switch {
	case at.After(m.at):
		m.at, m.written, m.replayed = at, map[string]int{}, nil
	case at.Before(m.at):
		return // a live line behind the mark (clock skew) leaves it alone
	}
	m.written[line]++
}

func (m *mark) count(line string) {
	if m.replayed == nil {
		m.replayed = map[string]int{}
	}
	m.replayed[line]++
}

// isChatLine tells a chat line (server-timed) from presence and media lines
// (stamped with our clock), which do not move the mark.
func isChatLine(text string) bool {
	switch {
	case strings.HasPrefix(text, "<-- "):
		return false
	case strings.HasPrefix(text, "<"), strings.HasPrefix(text, "* "), strings.HasPrefix(text, "-server- "):
		return true
	}
	return false
}

// recoverMark reads the tail of the newest daily file in dir and returns
// the mark it ends at; no file, or none with a chat line, gives a zero mark.
func recoverMark(dir string) (mark, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return mark{}, nil
		}
		return mark{}, err
	}
	var days []time.Time
	for _, e := range entries {
		if day, err := time.Parse("2006-01-02.log", e.Name()); err == nil && !e.IsDir() {
			days = append(days, day)
		}
	}
	slices.SortFunc(days, func(a, b time.Time) int { return b.Compare(a) })
	for _, day := range days {
		m, found, err := markOfFile(filepath.Join(dir, day.Format("2006-01-02")+".log"), day)
		if err != nil || found {
			return m, err
		}
	}
	return mark{}, nil
}

func markOfFile(path string, day time.Time) (mark, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return mark{}, false, err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return mark{}, false, err
	}
	from := max(0, st.Size()-tailBytes)
	buf := make([]byte, st.Size()-from)
	if _, err := f.ReadAt(buf, from); err != nil && err != io.EOF {
		return mark{}, false, err
	}
	if from > 0 {
		// The first line read is most likely cut.
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	var m mark
	sc := bufio.NewScanner(bytes.NewReader(buf))
	sc.Buffer(make([]byte, 0, 64<<10), tailBytes)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 11 || line[0] != '[' || line[9] != ']' {
			continue
		}
		clock, err := time.Parse("15:04:05", line[1:9])
		if err != nil || !isChatLine(line[11:]) {
			continue
		}
		at := day.Add(time.Duration(clock.Hour())*time.Hour + time.Duration(clock.Minute())*time.Minute +
			time.Duration(clock.Second())*time.Second)
		m.advance(at, line)
	}
	if err := sc.Err(); err != nil {
		return mark{}, false, err
	}
	return m, !m.at.IsZero(), nil
}
