package sqlwriter

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The spill file is append-only JSON Lines, one record per line, oldest
// first. A second small file holds the byte offset up to which lines have
// been committed to the database, so a restart after a partial replay does
// not write those lines twice, and, when the answer to a COMMIT of the next
// lines was lost, that transaction's id, so a restart asks PostgreSQL
// instead of writing them a second time.
const (
	spillName    = "sqlwriter-spill.jsonl"
	spillPosName = "sqlwriter-spill.pos"
	spillVersion = 1
)

// errSpillCap is returned when an append would grow the spill file past
// Config.MaxSpillBytes.
var errSpillCap = errors.New("spill file cap reached")

// errSpillDisabled is returned by appends after an unreadable spill file
// could not be moved out of the way.
var errSpillDisabled = errors.New("spilling disabled: an unreadable spill file is in the way")

// spillLine is the on-disk form of a record: everything needed to rebuild
// the row exactly.
type spillLine struct {
	V          int             `json:"v"`
	Timestamp  time.Time       `json:"ts"`
	ReceivedAt time.Time       `json:"ra"`
	Channel    string          `json:"ch"`
	EventType  string          `json:"t"`
	Username   *string         `json:"u,omitempty"`
	Message    *string         `json:"m,omitempty"`
	DedupKey   *string         `json:"dk,omitempty"`
	Metadata   json.RawMessage `json:"md"`
}

func ptrIf(s string, ok bool) *string {
	if !ok {
		return nil
	}
	return &s
}

func encodeSpillLine(r *record) ([]byte, error) {
	line, err := json.Marshal(spillLine{
		V: spillVersion, Timestamp: r.Timestamp, ReceivedAt: r.ReceivedAt,
		Channel: r.Channel, EventType: r.EventType,
		Username: ptrIf(r.Username, r.HasUsername), Message: ptrIf(r.Message, r.HasMessage),
		DedupKey: ptrIf(r.DedupKey, r.HasDedupKey), Metadata: r.Metadata,
	})
	if err != nil {
		return nil, fmt.Errorf("encode spill line: %w", err)
	}
	return append(line, '\n'), nil
}

// decodeSpillLine rebuilds a record. A line that cannot be read (a crash cut
// it short, or the disk corrupted it) still becomes a row: event_type
// sqlwriter.spill_unreadable with the bytes in metadata, so nothing vanishes.
func decodeSpillLine(line []byte, now time.Time) (record, bool) {
	var l spillLine
	if err := json.Unmarshal(line, &l); err == nil && l.V == spillVersion && l.EventType != "" && json.Valid(l.Metadata) {
		r := record{
			Timestamp: l.Timestamp, ReceivedAt: l.ReceivedAt, Channel: l.Channel,
			EventType: l.EventType, Metadata: l.Metadata,
		}
		if l.Username != nil {
			r.Username, r.HasUsername = *l.Username, true
		}
		if l.Message != nil {
			r.Message, r.HasMessage = *l.Message, true
		}
		if l.DedupKey != nil {
			r.DedupKey, r.HasDedupKey = *l.DedupKey, true
		}
		// The line was written from a safe record, but the file may have
		// been edited or damaged since.
		r.Channel, _ = safeText(r.Channel)
		r.EventType, _ = safeText(r.EventType)
		r.Username, _ = safeText(r.Username)
		r.Message, _ = safeText(r.Message)
		r.DedupKey, _ = safeText(r.DedupKey)
		r.Metadata, _ = safeJSON(r.Metadata)
		return r, true
	}
	m := metaBuilder{}
	m.raw("unreadable_spill_line", []byte("true"))
	m.str("raw_b64", base64.StdEncoding.EncodeToString(line))
	return record{
		Timestamp: now, ReceivedAt: now, Channel: "", EventType: "sqlwriter.spill_unreadable",
		Metadata: m.finish(),
	}, false
}

// spillFile is the on-disk queue. It is used by one goroutine at a time:
// the flusher while the writer runs, the actor itself while it stops.
type spillFile struct {
	path, posPath string
	maxBytes      int64
	disabled      bool
}

func newSpillFile(dir string, maxBytes int64) *spillFile {
	return &spillFile{
		path:     filepath.Join(dir, spillName),
		posPath:  filepath.Join(dir, spillPosName),
		maxBytes: maxBytes,
	}
}

// spillState is what the actor knows about the file.
type spillState struct {
	size   int64          // bytes in the file
	pos    int64          // bytes already committed to the database
	lines  int            // lines after pos
	unsure *pendingCommit // the lines after pos whose commit may have happened
}

func sameCommit(a, b *pendingCommit) bool {
	return a == b || a != nil && b != nil && *a == *b
}

// open inspects a spill file left by an earlier run.
func (s *spillFile) open() (spillState, error) {
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		// A position without its file is left over from a finished replay.
		if err := os.Remove(s.posPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return spillState{}, fmt.Errorf("remove stale spill position: %w", err)
		}
		return spillState{}, nil
	}
	if err != nil {
		return spillState{}, fmt.Errorf("open spill file: %w", err)
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return spillState{}, fmt.Errorf("stat spill file: %w", err)
	}
	st := spillState{size: info.Size()}
	if st.size == 0 {
		return s.commit(st, 0, 0, nil)
	}
	st.pos, st.unsure, err = s.readPos()
	if err != nil {
		return spillState{}, err
	}
	if st.pos > st.size {
		return spillState{}, fmt.Errorf("spill position %d beyond file size %d", st.pos, st.size)
	}
	if _, err := f.Seek(st.pos, io.SeekStart); err != nil {
		return spillState{}, fmt.Errorf("seek spill file: %w", err)
	}
	buf := make([]byte, 64<<10)
	lastNewline := true
	for {
		n, err := f.Read(buf)
		st.lines += bytes.Count(buf[:n], []byte{'\n'})
		if n > 0 {
			lastNewline = buf[n-1] == '\n'
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return spillState{}, fmt.Errorf("count spill lines: %w", err)
		}
	}
	if !lastNewline {
		st.lines++ // a line cut short by a crash is still replayed, as unreadable
	}
	return st, nil
}

func (s *spillFile) readPos() (int64, *pendingCommit, error) {
	b, err := os.ReadFile(s.posPath)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read spill position: %w", err)
	}
	fields := strings.Fields(string(b))
	var nums []int64
	for _, f := range fields {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 {
			nums = nil
			break
		}
		nums = append(nums, n)
	}
	switch len(nums) {
	case 1:
		return nums[0], nil, nil
	case 3:
		return nums[0], &pendingCommit{xid: nums[1], n: int(nums[2])}, nil
	}
	return 0, nil, fmt.Errorf("spill position file %s holds %q", s.posPath, b)
}

// savePos replaces the position file atomically.
func (s *spillFile) savePos(pos int64, unsure *pendingCommit) error {
	line := strconv.FormatInt(pos, 10)
	if unsure != nil {
		line += " " + strconv.FormatInt(unsure.xid, 10) + " " + strconv.Itoa(unsure.n)
	}
	tmp := s.posPath + ".tmp"
	if err := writeFileSync(tmp, []byte(line+"\n")); err != nil {
		return fmt.Errorf("write spill position: %w", err)
	}
	if err := os.Rename(tmp, s.posPath); err != nil {
		return fmt.Errorf("replace spill position: %w", err)
	}
	return nil
}

// appendRecords writes recs at the end of the file and fsyncs it. On failure
// the file is cut back to its old size so no half line is left behind.
// unsure is the writer's open question about the oldest records, which are
// now on disk: it is saved with the position.
func (s *spillFile) appendRecords(recs []record, st spillState, unsure *pendingCommit) (spillState, error) {
	if s.disabled {
		return st, errSpillDisabled
	}
	created := st.size == 0
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return st, fmt.Errorf("open spill file: %w", err)
	}
	// Lines are streamed to the file: encoding a whole burst into one
	// buffer first cost more memory than the events being spilled.
	out := bufio.NewWriterSize(f, 256<<10)
	var written int64
	var werr error
	for i := range recs {
		var line []byte
		if line, werr = encodeSpillLine(&recs[i]); werr != nil {
			break
		}
		if s.maxBytes > 0 && st.size+written+int64(len(line)) > s.maxBytes {
			werr = fmt.Errorf("%w: %d bytes + %d would pass %d", errSpillCap, st.size, written+int64(len(line)), s.maxBytes)
			break
		}
		if _, werr = out.Write(line); werr != nil {
			break
		}
		written += int64(len(line))
	}
	if werr == nil {
		werr = out.Flush()
	}
	if werr == nil {
		werr = f.Sync()
	}
	if werr != nil {
		_ = f.Truncate(st.size)
		_ = f.Close()
		if created {
			_ = os.Remove(s.path)
		}
		if errors.Is(werr, errSpillCap) {
			return st, werr
		}
		return st, fmt.Errorf("append %d events to spill file: %w", len(recs), werr)
	}
	if err := f.Close(); err != nil {
		return st, fmt.Errorf("close spill file: %w", err)
	}
	if created {
		syncDir(filepath.Dir(s.path))
	}
	st.size += written
	st.lines += len(recs)
	if !sameCommit(st.unsure, unsure) {
		if err := s.savePos(st.pos, unsure); err != nil {
			return st, err
		}
		st.unsure = unsure
	}
	return st, nil
}

// read returns up to max records, and about maxBytes of lines (at least
// one), after st.pos, with the file offset after each of them.
func (s *spillFile) read(st spillState, max int, maxBytes int64, now time.Time) ([]record, []int64, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, nil, fmt.Errorf("open spill file: %w", err)
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(st.pos, io.SeekStart); err != nil {
		return nil, nil, fmt.Errorf("seek spill file: %w", err)
	}
	r := bufio.NewReaderSize(io.LimitReader(f, st.size-st.pos), 256<<10)
	var recs []record
	var ends []int64
	off := st.pos
	for len(recs) < max && off-st.pos < maxBytes {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			off += int64(len(line))
			rec, _ := decodeSpillLine(bytes.TrimSuffix(line, []byte{'\n'}), now)
			recs = append(recs, rec)
			ends = append(ends, off)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read spill file: %w", err)
		}
	}
	return recs, ends, nil
}

// commit records that everything before pos is in the database, and what
// is unsure about the lines after it, and returns the new state, which holds
// even when err (a failure to persist it) is set. The position is made
// durable first; once the whole file is committed it is removed, data before
// position: a position without data is ignored on open, data without its
// position would be replayed twice.
func (s *spillFile) commit(st spillState, pos int64, lines int, unsure *pendingCommit) (spillState, error) {
	st.pos = pos
	st.lines -= lines
	st.unsure = unsure
	if st.pos >= st.size {
		st.unsure = nil // no lines left for it to be about
	}
	if err := s.savePos(st.pos, st.unsure); err != nil {
		return st, err
	}
	if st.pos < st.size {
		return st, nil
	}
	if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return st, fmt.Errorf("remove replayed spill file: %w", err)
	}
	if err := os.Remove(s.posPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return spillState{}, fmt.Errorf("remove spill position: %w", err)
	}
	return spillState{}, nil
}

// moveAside renames the spill file and its position out of the way and
// returns the new name of the data file.
func (s *spillFile) moveAside(now time.Time) (string, error) {
	suffix := ".unreadable-" + now.UTC().Format("20060102T150405Z")
	aside := s.path + suffix
	if err := os.Rename(s.path, aside); err != nil && !errors.Is(err, os.ErrNotExist) {
		return s.path, fmt.Errorf("move spill file aside: %w", err)
	}
	if err := os.Rename(s.posPath, s.posPath+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		return aside, fmt.Errorf("move spill position aside: %w", err)
	}
	return aside, nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a newly created file's directory entry durable. Failure only
// weakens durability against power loss, so it is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
