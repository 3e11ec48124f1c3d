package debugserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/daz-bot/daz/actors/actorkit"
)

type fakeReports struct{ ready bool }

func (f fakeReports) Actors() ActorsReport {
	return ActorsReport{Version: "test", Actors: []actorkit.NodeInfo{{ID: "daz", Name: "daz", Kind: "root", Children: []actorkit.NodeInfo{}}}}
}

func (f fakeReports) Cluster() ClusterReport {
	return ClusterReport{Node: "n1", Channels: []ChannelOwner{{Channel: "a", Owner: "n1"}}}
}

func (f fakeReports) Ready(context.Context) Readiness {
	return Readiness{Ready: f.ready, Database: CheckResult{OK: f.ready}}
}

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func TestNonLoopbackWithoutTokenRefusesToStart(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		_, err := Listen(Config{Addr: addr, Reports: fakeReports{}})
		if !errors.Is(err, ErrTokenRequired) {
			t.Errorf("Listen(%q) = %v, want ErrTokenRequired", addr, err)
		}
	}
}

func TestTokenIsRequiredOnEveryRoute(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := start(t, Config{Addr: "127.0.0.1:0", Token: "s3cret", Reports: fakeReports{ready: true}, Registry: reg})
	base := "http://" + s.Addr()
	for _, path := range []string{"/debug/actors", "/debug/cluster", "/healthz", "/readyz", "/metrics", "/debug/pprof/", "/debug/pprof/goroutine"} {
		if code, _ := get(t, base+path, ""); code != http.StatusUnauthorized {
			t.Errorf("%s without token: %d, want 401", path, code)
		}
		if code, _ := get(t, base+path, "wrong"); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d, want 401", path, code)
		}
		if code, _ := get(t, base+path, "s3cret"); code != http.StatusOK {
			t.Errorf("%s with the token: %d, want 200", path, code)
		}
	}
}

func TestTreePageIsStaticAndOpenButItsDataIsNot(t *testing.T) {
	s := start(t, Config{Addr: "127.0.0.1:0", Token: "s3cret", Reports: fakeReports{ready: true}})
	code, body := get(t, "http://"+s.Addr()+"/debug/actors.html", "")
	if code != http.StatusOK || !strings.Contains(body, "location.hash") {
		t.Fatalf("tree page without token = %d", code)
	}
	if strings.Contains(body, `"daz"`) {
		t.Fatal("the open page must not embed tree data")
	}
}

func TestRoutesServeTypedReports(t *testing.T) {
	s := start(t, Config{Addr: "127.0.0.1:0", Reports: fakeReports{ready: false}})
	base := "http://" + s.Addr()
	code, body := get(t, base+"/debug/actors", "")
	var rep ActorsReport
	if code != 200 || json.Unmarshal([]byte(body), &rep) != nil || rep.Actors[0].ID != "daz" {
		t.Fatalf("/debug/actors = %d %s", code, body)
	}
	code, body = get(t, base+"/debug/cluster", "")
	var cl ClusterReport
	if code != 200 || json.Unmarshal([]byte(body), &cl) != nil || cl.Channels[0].Owner != "n1" {
		t.Fatalf("/debug/cluster = %d %s", code, body)
	}
	if code, _ := get(t, base+"/readyz", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz when not ready = %d", code)
	}
	if code, body := get(t, base+"/debug/actors.html", ""); code != 200 || !strings.Contains(body, "actor tree") ||
		!strings.Contains(body, `fetch("/debug/cluster"`) {
		t.Fatalf("/debug/actors.html = %d", code)
	}
	if code, _ := get(t, base+"/metrics", ""); code != http.StatusNotFound {
		t.Fatalf("/metrics without a registry = %d, want 404", code)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:6060": true, "localhost:1": true, "[::1]:6060": true, "127.3.4.5:80": true,
		"0.0.0.0:6060": false, ":6060": false, "10.0.0.1:6060": false, "bad": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
