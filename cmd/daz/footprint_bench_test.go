package main

import (
	"bufio"
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
		b.ReportMetric(one/1024, "idle_rss_1ch_MB")
		b.ReportMetric((many-one)/extra/1024, "rss_per_extra_channel_MB")
		b.ReportMetric(many/1024, "idle_rss_51ch_MB")
	}
}

// idleRSS starts the daemon on channels, waits until /readyz says every one
// is online, lets it settle and returns its median VmRSS in KiB.
func idleRSS(b *testing.B, bin, serverURL string, channels []string) float64 {
	b.Helper()
	d := startDaemonProcess(b, bin, serverURL, channels, 60*time.Second)
	defer d.stop()
	// Start-up garbage is collected within a couple of GC cycles; sample a
	// few seconds of idle and take the median so one GC does not decide.
	time.Sleep(3 * time.Second)
	var samples []float64
	for range 10 {
		samples = append(samples, vmRSS(b, d.pid))
		time.Sleep(200 * time.Millisecond)
	}
	slices.Sort(samples)
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

func vmRSS(b *testing.B, pid int) float64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb
		}
	}
	b.Fatal("no VmRSS in /proc/pid/status")
	return 0
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
