package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/cmd/daz/sandbox"
)

// BenchmarkFootprint runs the real binary against the sandbox and reports
// what an operator sees in top: the daemon's resident memory once it is
// online and idle with one channel, and what each further channel adds.
// The sandbox runs in this test process, so only the daemon is measured.
func BenchmarkFootprint(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "daz")
	build := exec.Command("go", "build", "-o", bin, "github.com/daz-bot/daz/cmd/daz")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as `make build` makes it
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	const extra = 50
	names := make([]string, 1+extra)
	for i := range names {
		names[i] = fmt.Sprintf("fp%02d", i)
	}
	sb, err := sandbox.New(sandbox.Options{Addr: "127.0.0.1:0", Channels: names, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := sb.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = sb.Close() }()

	for b.Loop() {
		one := idleRSS(b, bin, sb.URL(), names[:1])
		many := idleRSS(b, bin, sb.URL(), names)
		b.ReportMetric(one.total/1024, "idle_rss_1ch_MB")
		// What RSS is made of: the binary's own pages (shared with the page
		// cache, the kernel maps nearly all of it) and the process's
		// anonymous memory (heap, stacks, runtime).
		b.ReportMetric(one.file/1024, "idle_rss_file_1ch_MB")
		b.ReportMetric(one.anon/1024, "idle_rss_anon_1ch_MB")
		b.ReportMetric((many.total-one.total)/extra/1024, "rss_per_extra_channel_MB")
		b.ReportMetric(many.total/1024, "idle_rss_51ch_MB")
	}
}

// rss is one reading of /proc/<pid>/status, in KiB.
type rss struct{ total, anon, file float64 }

// idleRSS starts the daemon on channels, waits until /readyz says every one
// is online, lets it settle and returns its median VmRSS (and the anonymous
// and file-backed parts of that sample).
func idleRSS(b *testing.B, bin, serverURL string, channels []string) rss {
	b.Helper()
	d := startDaemonProcess(b, bin, serverURL, channels, 60*time.Second)
	defer d.stop()
	// Start-up garbage is collected within a couple of GC cycles; sample a
	// few seconds of idle and take the median so one GC does not decide.
	time.Sleep(3 * time.Second)
	return medianRSS(b, d.pid)
}

// medianRSS samples the process's memory for two seconds and returns the
// median reading by VmRSS, so one GC does not decide.
func medianRSS(b *testing.B, pid int) rss {
	b.Helper()
	var samples []rss
	for range 10 {
		samples = append(samples, readRSS(b, pid))
		time.Sleep(200 * time.Millisecond)
	}
	slices.SortFunc(samples, func(x, y rss) int { return cmp.Compare(x.total, y.total) })
	return samples[len(samples)/2]
}

func ready(url string) bool {
	resp, err := http.Get(url) //nolint:noctx // a loopback probe in a benchmark
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func readRSS(b *testing.B, pid int) rss {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var r rss
	fields := map[string]*float64{"VmRSS:": &r.total, "RssAnon:": &r.anon, "RssFile:": &r.file}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), "\t")
		if dst := fields[key]; ok && dst != nil {
			if *dst, err = strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 64); err != nil {
				b.Fatal(err)
			}
		}
	}
	if r.total == 0 {
		b.Fatal("no VmRSS in /proc/pid/status")
	}
	return r
}

func vmRSS(b *testing.B, pid int) float64 {
	b.Helper()
	return readRSS(b, pid).total
}

func freeLoopbackAddr(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
