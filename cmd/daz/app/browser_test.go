package app_test

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
)

// chromium finds the browser .ci/run installs (Debian's chromium package).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("DAZ_TEST_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium found: install Debian's chromium package (.ci/ensure-chromium does) or set DAZ_TEST_CHROMIUM")
	return ""
}

func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// A person opens the sandbox page, logs in, types !ping and sees daz answer;
// then opens the actor-tree page and sees the connection online.
func TestBrowserChatReachesDazAndTreeShowsOnline(t *testing.T) {
	s := startStack(t, "web", nil)
	s.waitOnline(t, "web")
	ctx := browser(t)

	chatDone := `[...document.querySelectorAll("#chat .chat-line")].some(l =>
		l.querySelector(".user") && l.querySelector(".user").textContent.includes("dazbot") &&
		l.querySelector(".text").textContent.trim() === "pong")`
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.sandbox.URL()+"/?channel=web"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "carol"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS("#users li")),
		chromedp.SendKeys(chromedp.ID("msg"), "!ping"),
		chromedp.Click(chromedp.ID("send")),
	)
	if err != nil {
		t.Fatalf("chat page: %v", err)
	}
	_, pollErr := chromedp.Run(ctx, chromedp.Poll[bool](chatDone, chromedp.WithPollingTimeout(20*time.Second)))
	chat, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("chat")))
	if pollErr != nil || err != nil {
		t.Fatalf("no pong on the page: %v %v (chat: %q)", pollErr, err, chat)
	}
	if !strings.Contains(chat, "!ping") {
		t.Fatalf("the typed line is not on the page: %q", chat)
	}

	online := `(() => { const li = document.querySelector('li[data-id="daz/channels/web/connection"]');
		const st = li && li.querySelector(".state");
		return !!st && st.textContent.startsWith("online"); })()`
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+s.app.DebugAddr()+"/debug/actors.html")); err != nil {
		t.Fatal(err)
	}
	_, pollErr = chromedp.Run(ctx, chromedp.Poll[bool](online, chromedp.WithPollingTimeout(15*time.Second)))
	tree, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("tree")))
	if pollErr != nil || err != nil {
		t.Fatalf("actor tree page does not show the connection online: %v %v (page: %q)", pollErr, err, tree)
	}
	for _, want := range []string{"sqlwriter", "eventfilter", "outbound", "ping"} {
		if !strings.Contains(tree, want) {
			t.Errorf("tree page lacks %q", want)
		}
	}
}

// The sandbox page in a real browser: the backlog and a typed line show the
// server's escaped HTML (a link as an anchor, tags as text), and the guest is
// in the user list.
func TestBrowserPageShowsServerEscapedHTML(t *testing.T) {
	sb, err := sandbox.New(sandbox.Options{Addr: "127.0.0.1:0", Logger: actortest.Logger(t, slog.LevelWarn)})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := sb.Say("sandbox", "owner", "welcome <i>back</i>"); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	line := `<b>hi</b> & see https://example.invalid/?a=1&b=2`
	err = chromedp.Do(ctx,
		chromedp.Navigate(sb.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "pageguest"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS("#users li")),
		chromedp.SendKeys(chromedp.ID("msg"), line),
		chromedp.Click(chromedp.ID("send")),
	)
	if err != nil {
		t.Fatalf("page: %v", err)
	}
	lastIsOurs := `(() => { const ls = document.querySelectorAll("#chat .chat-line");
		const l = ls[ls.length - 1]; return !!l && l.querySelector(".user").textContent.includes("pageguest"); })()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](lastIsOurs, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("own line never shown: %v", err)
	}
	type pageSnapshot struct {
		First, Last string
		Users       []string
	}
	snap, err := chromedp.Run(ctx, chromedp.Evaluate[pageSnapshot](`(() => {
		const ls = [...document.querySelectorAll("#chat .chat-line .text")];
		return {First: ls[0].innerHTML, Last: ls[ls.length - 1].innerHTML,
			Users: [...document.querySelectorAll("#users li")].map(li => li.textContent.trim())};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if snap.First != "welcome &lt;i&gt;back&lt;/i&gt;" {
		t.Errorf("backlog line rendered as %q", snap.First)
	}
	want := `&lt;b&gt;hi&lt;/b&gt; &amp; see <a href="https://example.invalid/?a=1&amp;b=2" target="_blank" ` +
		`rel="noopener noreferrer">https://example.invalid/?a=1&amp;b=2</a>`
	if snap.Last != want {
		t.Errorf("own line rendered as\n%s\nwant\n%s", snap.Last, want)
	}
	if len(snap.Users) != 1 || snap.Users[0] != "pageguest" {
		t.Errorf("user list %v", snap.Users)
	}
}
