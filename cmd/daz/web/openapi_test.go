package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
)

// openAPI is the part of an OpenAPI 3.1 document this test reads.
type openAPI struct {
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas   map[string]*schema         `json:"schemas"`
		Responses map[string]json.RawMessage `json:"responses"`
	} `json:"components"`
}

type operation struct {
	Responses map[string]struct {
		Ref     string `json:"$ref"`
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

type schema struct {
	Ref        string             `json:"$ref"`
	Type       string             `json:"type"`
	Required   []string           `json:"required"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
	Enum       []string           `json:"enum"`
	Format     string             `json:"format"`
}

// check reports every way v does not fit s: missing required fields, fields
// the document does not describe, wrong types.
func (d *openAPI) check(s *schema, v any, at string) []string {
	if s.Ref != "" {
		return d.check(d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")], v, at)
	}
	var errs []string
	bad := func(format string, args ...any) []string { return append(errs, at+": "+fmt.Sprintf(format, args...)) }
	switch s.Type {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return bad("want an object, got %T", v)
		}
		if s.Properties == nil {
			return nil
		}
		for _, r := range s.Required {
			if _, ok := obj[r]; !ok {
				errs = bad("required %q missing", r)
			}
		}
		for k, val := range obj {
			ps, ok := s.Properties[k]
			if !ok {
				errs = bad("%q is not in the document", k)
				continue
			}
			errs = append(errs, d.check(ps, val, at+"."+k)...)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return bad("want an array, got %T", v)
		}
		for i, item := range arr {
			errs = append(errs, d.check(s.Items, item, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return bad("want a string, got %T", v)
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			return bad("%q is not one of %v", str, s.Enum)
		}
		if s.Format == "date-time" {
			if _, err := time.Parse(time.RFC3339, str); err != nil {
				return bad("not a date-time: %q", str)
			}
		}
	case "integer":
		n, ok := v.(float64)
		if !ok || n != float64(int64(n)) {
			return bad("want an integer, got %v", v)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return bad("want a number, got %T", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad("want a boolean, got %T", v)
		}
	}
	return errs
}

// Every documented GET answers with JSON that fits its documented schema
// (no undocumented fields, none missing), every error with the Error
// schema, and every API route the server has is documented.
func TestOpenAPIDocumentIsTrue(t *testing.T) {
	f := newFixture(t, migrated(t), nil)
	seed(t, f.pool)
	f.hub.SetState(channel, "online", now)
	f.hub.SetUsers(channel, []hub.Member{{Name: "alice", Rank: 2, AFK: true}}, now)
	f.hub.Play(channel, hub.NowPlaying{Title: "song", Type: "yt", ID: "x", Seconds: 10, Since: now})

	code, body, _ := get(t, f, "/api/v1/openapi.json")
	if code != 200 {
		t.Fatalf("openapi.json: %d", code)
	}
	var doc openAPI
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	errSchema := &schema{Ref: "#/components/schemas/Error"}
	fill := strings.NewReplacer("{channel}", channel, "{user}", "alice")
	requests := map[string][]string{ // documented path -> concrete requests
		"/api/v1/channels/{channel}/messages": {"", "?limit=2", "?q=everyone", "?user=alice&limit=1", "?since=2026-12-01&until=2026-12-02",
			"?since=2026-12-01&tz=Asia/Tokyo"},
		"/api/v1/channels/{channel}/stats": {"", "?tz=Europe/Berlin"},
	}
	documented := []string{}
	for path, ops := range doc.Paths {
		documented = append(documented, path)
		op, ok := ops["get"]
		if !ok || strings.HasSuffix(path, "/events") || strings.HasSuffix(path, "openapi.json") {
			continue
		}
		suffixes := requests[path]
		if suffixes == nil {
			suffixes = []string{""}
		}
		for _, sfx := range suffixes {
			url := fill.Replace(path) + sfx
			code, body, hdr := get(t, f, url)
			resp, ok := op.Responses[fmt.Sprint(code)]
			if !ok {
				t.Errorf("%s answered %d, which is not documented", url, code)
				continue
			}
			if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
				t.Errorf("%s: content type %q", url, hdr.Get("Content-Type"))
			}
			s := errSchema
			if c, ok := resp.Content["application/json"]; ok && c.Schema != nil {
				s = c.Schema
			}
			var v any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Errorf("%s: %v", url, err)
				continue
			}
			for _, e := range doc.check(s, v, url) {
				t.Error(e)
			}
		}
	}
	// Errors too: a bad request and an unknown channel.
	for _, url := range []string{"/api/v1/channels/testchan/messages?limit=0", "/api/v1/channels/nosuch/stats",
		"/api/v1/channels/testchan/stats?tz=Mars/Base"} {
		_, body, _ := get(t, f, url)
		var v any
		_ = json.Unmarshal([]byte(body), &v)
		for _, e := range doc.check(errSchema, v, url) {
			t.Error(e)
		}
	}
	// A page of messages follows its cursor to the end without repeats.
	seen := map[float64]bool{}
	cursor := ""
	for range 50 {
		_, body, _ := get(t, f, "/api/v1/channels/testchan/messages?limit=3"+cursor)
		var page struct {
			Messages []struct{ ID float64 }
			Next     string `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Messages {
			if seen[m.ID] {
				t.Fatalf("line %v twice", m.ID)
			}
			seen[m.ID] = true
		}
		if page.Next == "" {
			break
		}
		cursor = "&cursor=" + page.Next
	}
	if len(seen) < 10 {
		t.Fatalf("paged through %d lines only", len(seen))
	}
	sort.Strings(documented)
	want := []string{"/api/v1/channels", "/api/v1/channels/{channel}/events", "/api/v1/channels/{channel}/messages",
		"/api/v1/channels/{channel}/stats", "/api/v1/channels/{channel}/users/{user}", "/api/v1/openapi.json",
		"/api/v1/channels/{channel}/say"}
	for _, p := range want {
		if !slices.Contains(documented, p) {
			t.Errorf("%s is served but not documented", p)
		}
	}
	for _, p := range documented {
		if strings.HasSuffix(p, "/events") {
			continue // an endless stream; TestLiveStreamHidesModeratorLines reads it
		}
		code, _, _ := get(t, f, fill.Replace(p)+"?limit=1")
		if _, post := doc.Paths[p]["post"]; post {
			res, err := http.Post(f.http.URL+fill.Replace(p), "application/json", strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			code = res.StatusCode
		}
		if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
			t.Errorf("%s is documented but not served", p)
		}
	}
}
