package sqlwriter

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func spillRecords(t *testing.T, n int, from uint64) []record {
	t.Helper()
	var out []record
	for i := range n {
		rec, _ := newRecord(floodEvent(t, "spill", from+uint64(i), testStart), testStart)
		out = append(out, rec)
	}
	return out
}

func TestSpillFileRoundTripAndProgress(t *testing.T) {
	t.Parallel()
	s := newSpillFile(t.TempDir(), 0)
	st, err := s.open()
	if err != nil || st != (spillState{}) {
		t.Fatalf("open without a file: %+v, %v", st, err)
	}
	recs := spillRecords(t, 10, 1)
	if st, err = s.appendRecords(recs[:6], st, nil); err != nil {
		t.Fatal(err)
	}
	if st, err = s.appendRecords(recs[6:], st, nil); err != nil {
		t.Fatal(err)
	}
	got, ends, err := s.read(st, 4, 1<<30, testStart)
	if err != nil || len(got) != 4 {
		t.Fatalf("read: %d records, %v", len(got), err)
	}
	for i := range got {
		if !reflect.DeepEqual(normalized(got[i]), normalized(recs[i])) {
			t.Fatalf("record %d changed on disk:\n got %+v\nwant %+v", i, got[i], recs[i])
		}
	}
	if st, err = s.commit(st, ends[3], 4, nil); err != nil {
		t.Fatal(err)
	}
	// A byte budget smaller than one line still makes progress, one line
	// at a time.
	if one, _, err := s.read(st, 100, 1, testStart); err != nil || len(one) != 1 {
		t.Fatalf("read with a 1-byte budget: %d records, %v", len(one), err)
	}

	// A restart finds the remaining six and starts after the committed four.
	st2, err := newSpillFile(filepath.Dir(s.path), 0).open()
	if err != nil || st2 != st || st2.lines != 6 {
		t.Fatalf("reopen: %+v (want %+v), %v", st2, st, err)
	}
	rest, ends, err := s.read(st2, 100, 1<<30, testStart)
	if err != nil || len(rest) != 6 || rest[0].Metadata == nil || !reflect.DeepEqual(normalized(rest[5]), normalized(recs[9])) {
		t.Fatalf("read rest: %d, %v", len(rest), err)
	}
	if st, err = s.commit(st2, ends[5], 6, nil); err != nil || st != (spillState{}) {
		t.Fatalf("final commit: %+v, %v", st, err)
	}
	for _, p := range []string{s.path, s.posPath} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
}

// normalized drops the monotonic clock reading and the location, which
// the JSON line does not carry.
func normalized(r record) record {
	r.Timestamp = r.Timestamp.Round(0).UTC()
	r.ReceivedAt = r.ReceivedAt.Round(0).UTC()
	return r
}

func TestSpillLineCutShortIsReplayedAsUnreadable(t *testing.T) {
	t.Parallel()
	s := newSpillFile(t.TempDir(), 0)
	st, err := s.appendRecords(spillRecords(t, 2, 1), spillState{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of an append.
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"v":1,"ts":"2026-`); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()

	st, err = s.open()
	if err != nil || st.lines != 3 {
		t.Fatalf("open: %+v, %v", st, err)
	}
	recs, _, err := s.read(st, 10, 1<<30, testStart)
	if err != nil || len(recs) != 3 {
		t.Fatalf("read: %d, %v", len(recs), err)
	}
	last := recs[2]
	if last.EventType != "sqlwriter.spill_unreadable" || !strings.Contains(string(last.Metadata), "raw_b64") {
		t.Fatalf("cut line became %+v", last)
	}
}

func TestSpillCapRefusesAppend(t *testing.T) {
	t.Parallel()
	s := newSpillFile(t.TempDir(), 100)
	st, err := s.appendRecords(spillRecords(t, 3, 1), spillState{}, nil)
	if !errors.Is(err, errSpillCap) || st != (spillState{}) {
		t.Fatalf("append past the cap: %+v, %v", st, err)
	}
	if _, err := os.Stat(s.path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file created anyway: %v", err)
	}
}

// The question whether the oldest spilled lines were committed survives a
// restart together with the position, and goes away once answered.
func TestSpillKeepsUnsureCommitAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := newSpillFile(dir, 0)
	unsure := &pendingCommit{xid: 4242, n: 3}
	st, err := s.appendRecords(spillRecords(t, 5, 1), spillState{}, unsure)
	if err != nil {
		t.Fatal(err)
	}
	reopened, err := newSpillFile(dir, 0).open()
	if err != nil || !sameCommit(reopened.unsure, unsure) || reopened.lines != 5 {
		t.Fatalf("reopen: %+v (unsure %+v), %v", reopened, reopened.unsure, err)
	}
	_, ends, err := s.read(reopened, 10, 1<<30, testStart)
	if err != nil {
		t.Fatal(err)
	}
	// The answer was "committed": three lines done, nothing unsure left.
	st, err = s.commit(st, ends[2], 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	reopened, err = newSpillFile(dir, 0).open()
	if err != nil || reopened.unsure != nil || reopened.lines != 2 || reopened != st {
		t.Fatalf("after the answer: %+v, %v", reopened, err)
	}
}

// A spill file whose position cannot be read is not appended to (that
// could damage it) but moved aside whole, and a new one is started.
func TestUnreadableSpillFileIsMovedAsideNotOverwritten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := newSpillFile(dir, 0)
	if _, err := s.appendRecords(spillRecords(t, 3, 1), spillState{}, nil); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(s.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.posPath, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.open(); err == nil {
		t.Fatal("open accepted a garbage position")
	}
	aside, err := s.moveAside(testStart)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(aside); err != nil || string(got) != string(before) {
		t.Fatalf("moved file differs or is missing: %v", err)
	}
	st, err := s.open()
	if err != nil || st != (spillState{}) {
		t.Fatalf("fresh spill after moving aside: %+v, %v", st, err)
	}
}
