package app_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
