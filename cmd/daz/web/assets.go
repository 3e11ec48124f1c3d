package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed static
var files embed.FS

// asset is one embedded static file with its content hash.
type asset struct {
	body []byte
	etag string
	hash string // short, for cache-busting URLs
}

type assets struct{ byName map[string]asset }

func loadAssets() (*assets, error) {
	a := &assets{byName: map[string]asset{}}
	entries, err := fs.ReadDir(files, "static")
	if err != nil {
		return nil, fmt.Errorf("web assets: %w", err)
	}
	for _, e := range entries {
		body, err := files.ReadFile("static/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("web assets: %w", err)
		}
		sum := sha256.Sum256(body)
		h := hex.EncodeToString(sum[:])
		a.byName[e.Name()] = asset{body: body, etag: `"` + h[:32] + `"`, hash: h[:12]}
	}
	return a, nil
}

// URL is an asset's address with its hash, so it can be cached for good:
// a new binary with a changed file gets a new URL.
func (a *assets) URL(name string) string {
	if x, ok := a.byName[name]; ok {
		return "/static/" + name + "?v=" + x.hash
	}
	return "/static/" + name
}

// serveAsset serves an embedded file with an ETag (If-None-Match answers
// 304) and a long Cache-Control when asked for by its hashed URL.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	x, ok := s.assets.byName[name]
	if !ok {
		s.notFound(w, r, "There is no such file.")
		return
	}
	w.Header().Set("ETag", x.etag)
	if r.URL.Query().Get("v") == x.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=300")
	}
	if ct := contentTypes[path.Ext(name)]; ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(x.body))
}

var contentTypes = map[string]string{
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
}
