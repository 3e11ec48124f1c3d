package sandbox

import (
	"strings"
	"testing"
)

func TestChatRendering(t *testing.T) {
	t.Parallel()
	long := "LLLLLLLLLL " + strings.Repeat("This is a very long message. ", 14)
	cases := []struct {
		name, in, want string
	}{
		{"plain", "hello everyone", "hello everyone"},
		{"unicode stays raw", "héllo 日本語 🎉", "héllo 日本語 🎉"},
		{"html specials, quotes literal", `<b>&amp;"'`, `&lt;b&gt;&amp;amp;"'`},
		{"script tag", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"link with ampersand", "see https://example.invalid/x?a=1&b=2 ok",
			`see <a href="https://example.invalid/x?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">` +
				`https://example.invalid/x?a=1&amp;b=2</a> ok`},
		{"link with port", "http://127.0.0.1:8080/r/testchan",
			`<a href="http://127.0.0.1:8080/r/testchan" target="_blank" rel="noopener noreferrer">http://127.0.0.1:8080/r/testchan</a>`},
		{"underscores in a link stay", "https://en.wikipedia.org/wiki/Hans_Zimmer_x",
			`<a href="https://en.wikipedia.org/wiki/Hans_Zimmer_x" target="_blank" rel="noopener noreferrer">` +
				`https://en.wikipedia.org/wiki/Hans_Zimmer_x</a>`},
		{"quote ends a link", `http://x.invalid/"onmouseover="alert(1)`,
			`<a href="http://x.invalid/" target="_blank" rel="noopener noreferrer">http://x.invalid/</a>"onmouseover="alert(1)`},
		{"script scheme is not linked", "javascript://%0aalert(1)", "javascript://%0aalert(1)"},
		{"italic filter (recorded in big_channel)", `¯\_(ツ)_/¯`, `¯\<em>(ツ)</em>/¯`},
		{"single underscore", "┬─┬ノ( º _ ºノ)", "┬─┬ノ( º _ ºノ)"},
		{"bold", "*loud*", "<strong>loud</strong>"},
		{"code", "`x<y`", "<code>x&lt;y</code>"},
		{"strike", "~~no~~", "<s>no</s>"},
		{"spoiler", "[sp]ending[/sp]", `<span class="spoiler">ending</span>`},
		{"greentext is escaped", ">greentext line", "&gt;greentext line"},
		{"control runs become one space", "tab\there and control\u0007\u0001char", "tab here and control char"},
		{"cut at 320 before escaping", long, long[:320]},
		{"escaping after the cut grows it", strings.Repeat("<", 400), strings.Repeat("&lt;", 320)},
		{"cut never splits a surrogate pair", strings.Repeat("a", 319) + "🎉", strings.Repeat("a", 319)},
		{"astral characters count twice", strings.Repeat("🎉", 200), strings.Repeat("🎉", 160)},
	}
	r := newChatRenderer()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			text := r.prepare(tc.in)
			if text == "" {
				t.Fatalf("prepare(%q) dropped the message", tc.in)
			}
			if got := r.html(text); got != tc.want {
				t.Errorf("html(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestBlankMessagesAreDropped(t *testing.T) {
	t.Parallel()
	r := newChatRenderer()
	for _, in := range []string{"", "   ", "\t\n", "\u0007", "\u00a0\ufeff"} {
		if got := r.prepare(in); got != "" {
			t.Errorf("prepare(%q) = %q, want it dropped", in, got)
		}
	}
}

func TestMotdKeepsPlainTagsOnly(t *testing.T) {
	t.Parallel()
	r := newChatRenderer()
	cases := []struct{ in, want string }{
		{"Welcome to <b>testchan</b>! Type !help", "Welcome to <b>testchan</b>! Type !help"}, // recorded
		{"line<br/>two", "line<br/>two"},
		{`<img src=x onerror=alert(1)>`, `&lt;img src=x onerror=alert(1)&gt;`},
		{`<b onclick="x()">hi</b>`, `&lt;b onclick="x()"&gt;hi</b>`},
		{"", ""},
	}
	for _, tc := range cases {
		if got := r.motd(tc.in); got != tc.want {
			t.Errorf("motd(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
