package sandbox

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// maxChatUnits is CyTube's chat length limit. It counts UTF-16 code units
// (JavaScript string length) and applies before escaping, so the HTML that
// goes out can be longer.
const maxChatUnits = 320

// chatRenderer turns what a user typed into the HTML CyTube broadcasts. It
// holds only compiled patterns, so one per Server is shared by every handler.
type chatRenderer struct {
	controlRuns *regexp.Regexp
	link        *regexp.Regexp
	placeholder *regexp.Regexp
	filters     []chatFilter
	escaper     *strings.Replacer
	motdTags    *regexp.Regexp
}

// chatFilter is one of CyTube's default channel chat filters.
type chatFilter struct {
	pattern     *regexp.Regexp
	replacement string
}

func newChatRenderer() *chatRenderer {
	return &chatRenderer{
		controlRuns: regexp.MustCompile(`[\x00-\x1f]+`),
		// A scheme, "://", a host (or [IPv6]), an optional port and a path.
		// Quotes end a link so the href attribute cannot be broken out of.
		link:        regexp.MustCompile(`\w+://(?:[^:/\[\]\s"]+|\[[0-9a-fA-F:]+\])(?::\d+)?(?:/[^\s"]*)?`),
		placeholder: regexp.MustCompile("\x00([0-9]+)\x00"),
		filters: []chatFilter{
			{regexp.MustCompile("`(.+?)`"), "<code>$1</code>"},
			{regexp.MustCompile(`\*(.+?)\*`), "<strong>$1</strong>"},
			{regexp.MustCompile(`_(.+?)_`), "<em>$1</em>"},
			{regexp.MustCompile(`~~(.+?)~~`), "<s>$1</s>"},
			{regexp.MustCompile(`(?i)\[sp\](.*?)\[/sp\]`), `<span class="spoiler">$1</span>`},
		},
		escaper:  strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;"),
		motdTags: regexp.MustCompile(`&lt;(/?)(b|i|u|s|em|strong|code|br|p)\s*(/?)&gt;`),
	}
}

// motd sanitizes a new MOTD: everything is escaped, then a few plain
// formatting tags without attributes are let back in. CyTube runs a full
// HTML sanitizer here; this keeps the common case and nothing risky.
func (r *chatRenderer) motd(html string) string {
	return r.motdTags.ReplaceAllString(r.escaper.Replace(html), "<$1$2$3>")
}

// prepare cuts the input to the length limit and turns each run of control
// characters into one space. It returns "" for a message that is blank and
// must be dropped.
func (r *chatRenderer) prepare(input string) string {
	text := r.controlRuns.ReplaceAllString(cutUTF16(input, maxChatUnits), " ")
	if isBlank(text) {
		return ""
	}
	return text
}

// html escapes &, < and > (quotes stay literal), applies the default chat
// filters outside links and turns http(s)/ftp URLs into anchors.
func (r *chatRenderer) html(text string) string {
	escaped := r.escaper.Replace(text)
	var links []string
	// Control characters are gone by now, so NUL-delimited placeholders keep
	// the filters from touching the links.
	masked := r.link.ReplaceAllStringFunc(escaped, func(url string) string {
		links = append(links, url)
		return "\x00" + strconv.Itoa(len(links)-1) + "\x00"
	})
	for _, f := range r.filters {
		masked = f.pattern.ReplaceAllString(masked, f.replacement)
	}
	return r.placeholder.ReplaceAllStringFunc(masked, func(ph string) string {
		i, err := strconv.Atoi(strings.Trim(ph, "\x00"))
		if err != nil || i >= len(links) {
			return ""
		}
		return anchor(links[i])
	})
}

// anchor links only schemes a browser cannot run script from; others stay
// plain text (CyTube's HTML sanitizer strips their href).
func anchor(url string) string {
	scheme, _, _ := strings.Cut(url, "://")
	switch strings.ToLower(scheme) {
	case "http", "https", "ftp":
		return `<a href="` + url + `" target="_blank" rel="noopener noreferrer">` + url + `</a>`
	}
	return url
}

// cutUTF16 keeps at most limit UTF-16 code units without splitting a
// surrogate pair.
func cutUTF16(s string, limit int) string {
	units := 0
	for i, r := range s {
		width := 1
		if r > 0xFFFF {
			width = 2
		}
		if units+width > limit {
			return s[:i]
		}
		units += width
	}
	return s
}

// isBlank matches JavaScript's !s.trim().
func isBlank(s string) bool {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }) == ""
}
