package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"

	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/chatclient"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// BenchmarkTwoHundredChannels runs the real binary on 200 sandbox channels
// (per-server limits raised to 200, the sandbox's caps off) and reports what
// one daemon costs at that size: resident memory, goroutines and CPU while
// idle, then the !ping round trip (p50, p99) in one channel while the other
// 199 each chat at 5 lines/s, and memory and CPU under that load. The
// sandbox and the chat clients run in this test process, so only the
// daemon is measured.
func BenchmarkTwoHundredChannels(b *testing.B) {
	const (
		channels    = 200
		chatEvery   = 200 * time.Millisecond // 5 lines/s per channel
		pingers     = 5
		pingGap     = 500 * time.Millisecond // each pinger every 2.5 s, past !ping's 2 s cooldown
		pingWindow  = 30 * time.Second
		idleWindow  = 5 * time.Second
		readyWithin = 90 * time.Second
	)
	bin := filepath.Join(b.TempDir(), "daz")
	build := exec.Command("go", "build", "-o", bin, "github.com/daz-bot/daz/cmd/daz")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as `make build` makes it
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	names := make([]string, channels)
	for i := range names {
		names[i] = fmt.Sprintf("c%03d", i)
	}
	accounts := sandbox.DefaultAccounts()
	for i := range pingers {
		name := fmt.Sprintf("pinger%d", i)
		accounts[name] = sandbox.Account{Password: name, Rank: 1}
	}
	sb, err := sandbox.New(sandbox.Options{Addr: "127.0.0.1:0", Channels: names, Accounts: accounts, Logger: slog.New(slog.DiscardHandler)})
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
		d := startDaemonProcess(b, bin, sb.URL(), names, readyWithin)
		time.Sleep(3 * time.Second) // start-up garbage goes in the first GC cycles
		b.ReportMetric(medianRSS(b, d.pid).total/1024, "idle_rss_MB")
		b.ReportMetric(goroutines(b, d.debugAddr), "goroutines")
		b.ReportMetric(cpuPercent(b, d.pid, func() { time.Sleep(idleWindow) }), "idle_cpu_%")

		// 199 channels chat, one answers pings.
		var said atomic.Int64
		chatCtx, stopChat := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, name := range names[1:] {
			c, err := chatclient.Dial(ctx, sb.URL(), name, "alice", "alice")
			if err != nil {
				b.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				tick := time.NewTicker(chatEvery)
				defer tick.Stop()
				for n := 0; ; n++ {
					select {
					case <-chatCtx.Done():
						return
					case <-tick.C:
						if c.Say(fmt.Sprintf("line %d from %s", n, name)) == nil {
							said.Add(1)
						}
					}
				}
			}()
		}
		var lat []time.Duration
		peakRSS := 0.0
		loadCPU := cpuPercent(b, d.pid, func() {
			lat = pingLoop(b, ctx, sb.URL(), names[0], pingers, pingGap, pingWindow, func() {
				peakRSS = max(peakRSS, vmRSS(b, d.pid))
			})
		})
		stopChat()
		wg.Wait()
		b.ReportMetric(loadCPU, "load_cpu_%")
		b.ReportMetric(peakRSS/1024, "load_peak_rss_MB")
		b.ReportMetric(float64(said.Load())/pingWindow.Seconds(), "chat_lines/s")
		slices.Sort(lat)
		pct := func(q float64) float64 {
			return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Nanoseconds()) / 1e6
		}
		b.ReportMetric(float64(len(lat)), "pings")
		b.ReportMetric(pct(0.50), "ping_p50_ms")
		b.ReportMetric(pct(0.99), "ping_p99_ms")
		d.stop()
	}
}

type daemonProcess struct {
	pid       int
	debugAddr string
	stop      func()
}

// startDaemonProcess runs the binary on channels and waits until /readyz
// says every one is online.
func startDaemonProcess(b *testing.B, bin, serverURL string, channels []string, within time.Duration) daemonProcess {
	b.Helper()
	dbURL := pgtest.New(b)
	dir := b.TempDir()
	var cfg strings.Builder
	cfg.WriteString("cytube:\n  channels:\n")
	for _, c := range channels {
		fmt.Fprintf(&cfg, "    - {name: %s, username: dazbot, password: dazbot}\n", c)
	}
	cfgPath := filepath.Join(dir, "daz.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	debugAddr := freeLoopbackAddr(b)
	n := strconv.Itoa(len(channels))
	cmd := exec.Command(bin, "run", "-config", cfgPath)
	cmd.Env = []string{
		"DAZ_CYTUBE_SERVER_URL=" + serverURL, "DAZ_DATABASE_URL=" + dbURL,
		// The sandbox has no per-address limits here; neither has the daemon.
		"DAZ_CYTUBE_MAX_CONNECTIONS_PER_SERVER=" + n, "DAZ_CYTUBE_CONNECT_BURST=" + n,
		// Pingers take turns faster than the default 10 commands a minute.
		"DAZ_COMMANDS_USER_RATE_LIMIT=1000",
		"DAZ_DEBUG_ADDR=" + debugAddr, "DAZ_WEB_ADDR=127.0.0.1:0", "DAZ_DATA_DIR=" + dir, "DAZ_LOG_FORMAT=json", "DAZ_LOG_LEVEL=warn",
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		}
	}
	b.Cleanup(stop)
	if !actortest.WaitFor(within, func() bool { return ready("http://" + debugAddr + "/readyz") }) {
		b.Fatalf("daemon with %d channels not ready within %s", len(channels), within)
	}
	return daemonProcess{pid: cmd.Process.Pid, debugAddr: debugAddr, stop: stop}
}

// pingLoop has pingers take turns saying !ping in channel, one at a time,
// for window, and returns each round trip until the bot's pong. sample
// runs between pings.
func pingLoop(b *testing.B, ctx context.Context, serverURL, channel string, pingers int,
	gap, window time.Duration, sample func()) []time.Duration {
	b.Helper()
	var clients []*chatclient.Client
	for i := range pingers {
		name := fmt.Sprintf("pinger%d", i)
		c, err := chatclient.Dial(ctx, serverURL, channel, name, name)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	isPong := func(l chatclient.Line) bool { return l.Event == "chatMsg" && l.Username == "dazbot" && l.Msg == "pong" }
	time.Sleep(time.Second) // the logins settle before the first !ping
	var lat []time.Duration
	end := time.Now().Add(window)
	for i := 0; time.Now().Before(end); i++ {
		c := clients[i%len(clients)]
		before := c.Count(isPong)
		start := time.Now()
		if err := c.Say("!ping"); err != nil {
			b.Fatal(err)
		}
		for c.Count(isPong) == before {
			if time.Since(start) > 10*time.Second {
				b.Fatalf("no pong within 10 s (ping %d)", i+1)
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
		sample()
		time.Sleep(gap)
	}
	return lat
}

// cpuPercent is the process's CPU time (user and system) while during
// runs, as a share of one core.
func cpuPercent(b *testing.B, pid int, during func()) float64 {
	b.Helper()
	t0, c0 := time.Now(), cpuTicks(b, pid)
	during()
	t1, c1 := time.Now(), cpuTicks(b, pid)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return float64(c1-c0) / ticksPerSecond / t1.Sub(t0).Seconds() * 100
}

// cpuTicks reads utime+stime from /proc/pid/stat.
func cpuTicks(b *testing.B, pid int) int64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name (field 2) may hold spaces; fields after it count
	// from the state (field 3).
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", pid, s)
	}
	return utime + stime
}

// goroutines reads go_goroutines from the daemon's /metrics.
func goroutines(b *testing.B, debugAddr string) float64 {
	b.Helper()
	resp, err := http.Get("http://" + debugAddr + "/metrics") //nolint:noctx // a loopback probe in a benchmark
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				b.Fatal(err)
			}
			return v
		}
	}
	b.Fatal("no go_goroutines on /metrics")
	return 0
}
