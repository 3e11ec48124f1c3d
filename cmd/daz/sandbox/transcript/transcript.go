// Package transcript loads the recorded CyTube wire transcripts in
// testdata/frames so tests can replay real server traffic instead of
// hand-written frames.
package transcript

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The values of Line.Dir.
const (
	DirIn   = "in"   // websocket text frame received from the server
	DirOut  = "out"  // websocket text frame sent by the client
	DirHTTP = "http" // plain HTTP GET; Frame holds the response body
	DirWS   = "ws"   // websocket lifecycle event (open, close, error)
)

// framesDir is where the transcripts live, relative to the repository root.
const framesDir = "testdata/frames"

// maxLineBytes bounds one transcript line; the biggest recorded line (the
// 733 KB playlist, JSON-escaped) is well under it.
const maxLineBytes = 16 << 20

// Line is one captured record. Field meanings are documented in
// testdata/frames/README.md.
type Line struct {
	TMs         int64  `json:"t_ms"`
	Dir         string `json:"dir"`
	Conn        string `json:"conn"`
	Frame       string `json:"frame"`
	URL         string `json:"url,omitempty"`
	Event       string `json:"event,omitempty"`
	Error       string `json:"error,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Status      *int   `json:"status,omitempty"`
	Code        int    `json:"code,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// Root returns the repository root: the nearest directory at or above the
// working directory that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("transcript: working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("transcript: no go.mod found above the working directory")
		}
		dir = parent
	}
}

// Names lists every transcript (file name without .jsonl), sorted.
func Names() ([]string, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	paths, err := filepath.Glob(filepath.Join(root, framesDir, "*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("transcript: list %s: %w", framesDir, err)
	}
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".jsonl"))
	}
	sort.Strings(names)
	return names, nil
}

// Load reads testdata/frames/<name>.jsonl; name may carry the .jsonl suffix.
func Load(name string) ([]Line, error) {
	name = strings.TrimSuffix(name, ".jsonl")
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, fmt.Errorf("transcript: invalid name %q", name)
	}
	root, err := Root()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(root, framesDir, name+".jsonl"))
	if err != nil {
		return nil, fmt.Errorf("transcript %s: %w", name, err)
	}
	defer func() { _ = f.Close() }()
	lines, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("transcript %s: %w", name, err)
	}
	return lines, nil
}

// Parse reads JSON Lines in the transcript format. Unknown fields, an unknown
// dir or a decreasing t_ms are errors so that format drift is noticed.
func Parse(r io.Reader) ([]Line, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	var lines []Line
	lineNo := 0
	for sc.Scan() {
		lineNo++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var l Line
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		switch l.Dir {
		case DirIn, DirOut, DirHTTP, DirWS:
		default:
			return nil, fmt.Errorf("line %d: unknown dir %q", lineNo, l.Dir)
		}
		if n := len(lines); n > 0 && l.TMs < lines[n-1].TMs {
			return nil, fmt.Errorf("line %d: t_ms %d goes back from %d", lineNo, l.TMs, lines[n-1].TMs)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", lineNo+1, err)
	}
	return lines, nil
}

// MustLoad is Load for tests: it fails t on error.
func MustLoad(t testing.TB, name string) []Line {
	t.Helper()
	lines, err := Load(name)
	if err != nil {
		t.Fatalf("load transcript: %v", err)
	}
	return lines
}

// MustNames is Names for tests: it fails t on error or when none exist.
func MustNames(t testing.TB) []string {
	t.Helper()
	names, err := Names()
	if err != nil {
		t.Fatalf("list transcripts: %v", err)
	}
	if len(names) == 0 {
		t.Fatalf("no transcripts in %s", framesDir)
	}
	return names
}
