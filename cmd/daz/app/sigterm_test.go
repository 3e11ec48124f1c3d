package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/migrations/pgtest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The real binary, a real SIGTERM in the middle of a 5 000-line flood: after
// the process exits 0, every event its connection read is a row.
func TestSIGTERMDuringFloodLosesNothing(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "daz")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/daz-bot/daz/cmd/daz").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dbURL := pgtest.New(t)
	sb, err := sandbox.New(sandbox.Options{Addr: "127.0.0.1:0", Channels: []string{"flood"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := sb.Start(ctx); err != nil {
		t.Fatal(err)
	}
	debugAddr := freeAddr(t)
	cmd := exec.Command(bin, "run")
	cmd.Env = []string{
		"DAZ_CYTUBE_SERVER_URL=" + sb.URL(), "DAZ_CYTUBE_CHANNEL=flood",
		"DAZ_CYTUBE_USERNAME=dazbot", "DAZ_CYTUBE_PASSWORD=dazbot",
		"DAZ_DATABASE_URL=" + dbURL, "DAZ_DEBUG_ADDR=" + debugAddr, "DAZ_WEB_ADDR=127.0.0.1:0",
		"DAZ_DATA_DIR=" + t.TempDir(), "DAZ_LOG_FORMAT=json", "DAZ_SHUTDOWN_TIMEOUT=60s",
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logMu sync.Mutex
	var eventsRead int64 = -1
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec struct {
				Msg        string `json:"msg"`
				EventsRead int64  `json:"events_read"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "channel stopped" {
				logMu.Lock()
				eventsRead = rec.EventsRead
				logMu.Unlock()
			}
		}
	}()
	actortest.CheckFor(t, 30*time.Second, "daemon ready", func() bool {
		res, err := http.Get("http://" + debugAddr + "/readyz")
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})

	const lines = 5000
	floodDone := make(chan int)
	go func() {
		said := 0
		for i := 0; i < lines; i++ {
			// Keep the bot at most a few hundred lines behind: the sandbox
			// drops a client whose send queue fills (1 024 frames), which
			// would end the flood early. Once the daemon stops reading
			// (SIGTERM), the flood ends.
			if i%100 == 0 && !actortest.WaitFor(5*time.Second, func() bool { return eventsOnMetrics(debugAddr, "flood") >= said-500 }) {
				break
			}
			if sb.Say("flood", "flooder", fmt.Sprintf("flood line %d", i)) != nil {
				break
			}
			said++
		}
		floodDone <- said
	}()
	// SIGTERM once the daemon is visibly in the middle of reading the flood.
	actortest.CheckFor(t, 30*time.Second, "the daemon reading the flood", func() bool {
		return eventsOnMetrics(debugAddr, "flood") >= 1000
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	said := <-floodDone
	err = cmd.Wait()
	<-logDone
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		t.Fatalf("daemon exited with %d after SIGTERM, want 0", exitErr.ExitCode())
	} else if err != nil {
		t.Fatal(err)
	}
	logMu.Lock()
	read := eventsRead
	logMu.Unlock()
	if read < 0 {
		t.Fatal(`no "channel stopped" log line with events_read`)
	}
	s := &stack{dbURL: dbURL}
	rows := s.count(t, `SELECT count(*) FROM daz_core_chat_log WHERE channel = 'flood'`)
	if int64(rows) != read {
		t.Fatalf("the connection read %d events but %d rows were logged", read, rows)
	}
	flood := s.count(t, `SELECT count(*) FROM daz_core_chat_log WHERE channel = 'flood' AND username = 'flooder'`)
	// The signal went out once 1 000 events had been read, a few dozen of
	// them from the join burst: the rest were flood lines.
	if flood < 900 {
		t.Fatalf("only %d of the flood lines were read before the stop; the test did not exercise a flood", flood)
	}
	if said == lines {
		t.Fatalf("all %d lines were said before the daemon stopped reading: the SIGTERM did not land during the flood", lines)
	}
	t.Logf("said %d, read %d events, logged %d rows (%d flood lines)", said, read, rows, flood)
}

// eventsOnMetrics reads daz_connection_events_total of a channel, or -1
// while the endpoint does not answer.
func eventsOnMetrics(addr, channel string) int {
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var n float64
		if _, err := fmt.Sscanf(sc.Text(), `daz_connection_events_total{channel="`+channel+`"} %g`, &n); err == nil {
			return int(n)
		}
	}
	return -1
}
