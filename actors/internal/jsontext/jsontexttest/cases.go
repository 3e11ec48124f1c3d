// Package jsontexttest holds the JSON edge cases that both the validator's
// own tests and the SQL writer's PostgreSQL agreement test run through.
package jsontexttest

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Cases reads testdata/jsontext/cases.txt: one Go-quoted text per line, so
// invalid UTF-8 and control bytes survive in a file people can read.
func Cases(tb testing.TB) [][]byte {
	tb.Helper()
	_, here, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(here), "..", "..", "..", "..", "testdata", "jsontext", "cases.txt")
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("json cases: %v", err)
	}
	defer f.Close()
	var cases [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c, err := strconv.Unquote(line)
		if err != nil {
			tb.Fatalf("json cases: %q: %v", line, err)
		}
		cases = append(cases, []byte(c))
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("json cases: %v", err)
	}
	return cases
}
