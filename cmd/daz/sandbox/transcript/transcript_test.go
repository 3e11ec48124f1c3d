package transcript

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRootHoldsGoMod(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "module github.com/daz-bot/daz") {
		t.Fatalf("go.mod at %s is not daz's", root)
	}
}

func TestNamesListsEveryRecording(t *testing.T) {
	names := MustNames(t)
	for _, want := range []string{"login_ok", "big_channel", "chat_and_presence", "ping"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("Names() = %v, missing %q", names, want)
		}
	}
	for _, n := range names {
		if strings.HasSuffix(n, ".jsonl") {
			t.Errorf("name %q keeps its suffix", n)
		}
	}
}

func TestLoadEveryTranscript(t *testing.T) {
	for _, name := range MustNames(t) {
		t.Run(name, func(t *testing.T) {
			lines := MustLoad(t, name)
			if len(lines) == 0 {
				t.Fatal("empty transcript")
			}
			for i, l := range lines {
				switch l.Dir {
				case DirWS:
					if l.Event == "" || l.Frame != "" {
						t.Errorf("line %d: ws line %+v", i+1, l)
					}
				case DirHTTP:
					if l.URL == "" || (l.Status == nil) == (l.Error == "") {
						t.Errorf("line %d: http line needs url and exactly one of status/error: %+v", i+1, l)
					}
				case DirIn, DirOut:
					if l.Frame == "" {
						t.Errorf("line %d: empty frame", i+1)
					}
				}
			}
		})
	}
}

func TestLoadLoginOK(t *testing.T) {
	lines := MustLoad(t, "login_ok.jsonl")
	http := ByDir(ByConn(lines, "bot"), DirHTTP)
	if len(http) != 1 || http[0].Status == nil || *http[0].Status != 200 ||
		!strings.HasSuffix(http[0].URL, "/socketconfig/testchan.json") ||
		!strings.HasPrefix(http[0].ContentType, "application/json") {
		t.Fatalf("bot http lines = %+v", http)
	}
	out := Frames(lines, "bot", DirOut)
	if len(out) == 0 || out[0] != "40" {
		t.Fatalf("bot's first out frame = %q, want 40", out)
	}
	conns := Conns(lines)
	if len(conns) < 2 {
		t.Fatalf("Conns = %v, want alice and bot", conns)
	}
	closes := Filter(lines, func(l Line) bool { return l.Event == "close" })
	for _, c := range closes {
		if c.Code == 0 {
			t.Errorf("close without code: %+v", c)
		}
	}
}

func TestLoadRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "../go", "a/b", "no_such_transcript"} {
		if _, err := Load(name); err == nil {
			t.Errorf("Load(%q) succeeded", name)
		}
	}
}

func TestParseRejectsDrift(t *testing.T) {
	cases := map[string]string{
		"unknown field": `{"t_ms":1,"dir":"in","conn":"bot","frame":"2","extra":1}`,
		"unknown dir":   `{"t_ms":1,"dir":"sideways","conn":"bot","frame":"2"}`,
		"time goes back": `{"t_ms":5,"dir":"in","conn":"bot","frame":"2"}
{"t_ms":4,"dir":"in","conn":"bot","frame":"2"}`,
		"not json": `{"t_ms":`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(strings.NewReader(in)); err == nil {
				t.Fatal("Parse accepted it")
			}
		})
	}
}
