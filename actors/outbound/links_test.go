package outbound

import "testing"

func TestKeepLinksClickable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"no link here.", "no link here."},
		{"https://host/m1.json", "https://host/m1.json"},
		{"see https://host/m1.json, started 3s ago.", "see https://host/m1.json , started 3s ago."},
		{"at https://host/a.", "at https://host/a ."},
		{"wow https://host/a!", "wow https://host/a !"},
		{"is it https://host/a?", "is it https://host/a ?"},
		{"(see https://host/a)", "(see https://host/a )"},
		{"(see https://host/a).", "(see https://host/a )."},
		{"link: https://host/a: here", "link: https://host/a : here"},
		{"one https://host/a; two https://host/b", "one https://host/a ; two https://host/b"},
		{"quoted 'https://host/a'", "quoted 'https://host/a '"},
		{"https://en.wikipedia.org/wiki/Go_(language)", "https://en.wikipedia.org/wiki/Go_(language)"},
		{"(https://en.wikipedia.org/wiki/Go_(language))", "(https://en.wikipedia.org/wiki/Go_(language) )"},
		{"https://host/search?q=a.b&x=1", "https://host/search?q=a.b&x=1"},
		{"https://youtu.be/def?t=10", "https://youtu.be/def?t=10"},
		{"bare https://...", "bare https://..."},
		{"two https://a.example/x, https://b.example/y.", "two https://a.example/x , https://b.example/y ."},
	} {
		if got := KeepLinksClickable(tt.in); got != tt.want {
			t.Errorf("KeepLinksClickable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
