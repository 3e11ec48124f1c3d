package app_test

import (
	"context"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/cmd/daz/sandbox/chatclient"
)

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+/login\?t=[A-Za-z0-9_-]+`)

func withWeb(o *app.Options) { o.Web = app.WebOptions{Addr: "127.0.0.1:0"} }

// A person chats in the sandbox; the daemon's web pages show it: the
// overview lists the channel and who is online, the channel page links to
// the person, their page links to the line, and the permalink lands on it.
// Hostile markup typed in chat stays text on every page.
func TestBrowserWebOverviewUserPermalink(t *testing.T) {
	s := startStack(t, "web", withWeb)
	s.waitOnline(t, "web")
	ctx := browser(t)
	base := s.app.WebURL()

	err := chromedp.Do(ctx,
		chromedp.Navigate(s.sandbox.URL()+"/?channel=web"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "carol"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS("#users li")),
		chromedp.SendKeys(chromedp.ID("msg"), `hello web <img src=x onerror="window.__xss=1">`),
		chromedp.Click(chromedp.ID("send")),
	)
	if err != nil {
		t.Fatalf("sandbox chat: %v", err)
	}
	actortest.CheckFor(t, 20*time.Second, "carol's line in the chat log", func() bool {
		return s.count(t, `SELECT count(*) FROM daz_core_chat_log WHERE channel = 'web' AND username = 'carol' AND event_type = 'chatMsg'`) == 1
	})

	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/c/web"]`)),
	)
	if err != nil {
		t.Fatalf("overview: %v", err)
	}
	overview, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("main")))
	if !strings.Contains(overview, "online") || !strings.Contains(overview, "carol") {
		t.Fatalf("overview does not show the channel online with carol: %q", overview)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/c/web"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.roster a[href="/c/web/u/carol"]`)),
		chromedp.Click(chromedp.CSS(`.roster a[href="/c/web/u/carol"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.log .permalink`)),
		chromedp.Click(chromedp.CSS(`.log .permalink`)),
		chromedp.WaitVisible(chromedp.CSS(`.log li:target`)),
	)
	if err != nil {
		t.Fatalf("overview → user → permalink: %v", err)
	}
	type landing struct {
		Target string
		Imgs   int
		XSS    bool
		URL    string
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[landing](`(() => ({
		Target: document.querySelector(".log li:target .text").textContent,
		Imgs: document.querySelectorAll("main img").length,
		XSS: window.__xss === 1,
		URL: location.pathname + location.search + location.hash }))()`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Target != `hello web <img src=x onerror="window.__xss=1">` || got.Imgs != 0 || got.XSS {
		t.Fatalf("permalinked line %+v", got)
	}
	if !strings.HasPrefix(got.URL, "/c/web/log?date=") || !strings.Contains(got.URL, "#") {
		t.Fatalf("landed on %s", got.URL)
	}
}

// The live view shows a line typed in the sandbox as it happens, with no
// reload, and renders it as text.
func TestBrowserWebLiveView(t *testing.T) {
	s := startStack(t, "web", withWeb)
	s.waitOnline(t, "web")
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.app.WebURL()+"/c/web/live"),
		chromedp.WaitVisible(chromedp.ID("lines")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("status").textContent.startsWith("Live")`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("live stream never opened: %v", err)
	}
	if err := s.sandbox.Say("web", "dave", `live <b>now</b>`); err != nil {
		t.Fatal(err)
	}
	seen := `[...document.querySelectorAll("#lines .chat")].some(l =>
		l.querySelector(".user").textContent === "dave" && l.querySelector(".text").textContent === "live <b>now</b>")`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](seen, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		lines, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("lines")))
		t.Fatalf("line not shown live: %v (lines: %q)", err, lines)
	}
	bolds, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#lines b").length`))
	if err != nil || bolds != 0 {
		t.Fatalf("markup from chat rendered: %d %v", bolds, err)
	}
}

// A moderator PMs the bot !web, opens the link it PMs back in a browser,
// signs in, and uses the say box; the line reaches the channel through the
// bot. Opening the same link again is refused.
func TestBrowserWebSignInThroughCyTube(t *testing.T) {
	s := startStack(t, "web", withWeb)
	s.waitOnline(t, "web")
	mod, err := chatclient.Dial(context.Background(), s.sandbox.URL(), "web", "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close()
	actortest.CheckFor(t, 10*time.Second, "alice in the web roster", func() bool {
		return strings.Contains(httpGet(t, s.app.WebURL()+"/api/v1/channels"), `"alice"`)
	})
	if err := s.sandbox.SetRank("web", "alice", 2); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, 10*time.Second, "alice's rank 2 in the web roster", func() bool {
		return strings.Contains(httpGet(t, s.app.WebURL()+"/api/v1/channels"), `{"name":"alice","rank":2}`)
	})
	if err := mod.PM("dazbot", "!web"); err != nil {
		t.Fatal(err)
	}
	var link string
	actortest.CheckFor(t, 10*time.Second, "the sign-in link by PM", func() bool {
		for _, l := range mod.Lines() {
			// The server linkifies the URL; take it from the first href-free match.
			if m := linkPattern.FindString(l.Msg); l.Event == "pm" && l.Username == "dazbot" && m != "" {
				link = html.UnescapeString(m)
				return true
			}
		}
		return false
	})
	if !strings.HasPrefix(link, s.app.WebURL()+"/login?t=") {
		t.Fatalf("link %q", link)
	}

	ctx := browser(t)
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("signin")),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("signed-in")),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("signed-in")))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.app.WebURL()+"/c/web/live"),
		chromedp.WaitVisible(chromedp.ID("say-text")),
		chromedp.SendKeys(chromedp.ID("say-text"), "hello from the web page"),
		chromedp.Click(chromedp.ID("say-send")),
	)
	if err != nil {
		t.Fatalf("say: %v", err)
	}
	if who != "alice" {
		t.Fatalf("signed in as %q", who)
	}
	actortest.CheckFor(t, 15*time.Second, "the web say in the channel", func() bool {
		return mod.Count(func(l chatclient.Line) bool {
			return l.Event == "chatMsg" && l.Username == "dazbot" && l.Msg == "hello from the web page"
		}) == 1
	})

	// The link was used up: a second browser gets 401.
	ctx2 := browser(t)
	if err := chromedp.Do(ctx2, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx2, chromedp.Text(chromedp.ID("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "not valid") {
		t.Fatalf("reused link page: %q", body)
	}
}
