package sandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// transcriptLine is one record of testdata/frames/*.jsonl.
type transcriptLine struct {
	TMs         int64  `json:"t_ms"`
	Dir         string `json:"dir"`
	Conn        string `json:"conn"`
	Frame       string `json:"frame"`
	Event       string `json:"event"`
	URL         string `json:"url"`
	Status      *int   `json:"status"`
	ContentType string `json:"content_type"`
}

// loadTranscript reads testdata/frames/<name>.jsonl from the repository root
// (the nearest directory above with a go.mod).
func loadTranscript(t testing.TB, name string) []transcriptLine {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("stat go.mod: %v", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the working directory")
		}
		dir = parent
	}
	f, err := os.Open(filepath.Join(dir, "testdata", "frames", name+".jsonl"))
	if err != nil {
		t.Fatalf("open transcript: %v", err)
	}
	defer func() { _ = f.Close() }()
	var lines []transcriptLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var l transcriptLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s line %d: %v", name, len(lines)+1, err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return lines
}
