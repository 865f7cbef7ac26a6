package host

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/termux-webui/webui/internal/apps"
)

// A static site's root written as ~/... is served from the home, as the
// README's PWA example writes it.
func TestStaticRootUnderHome(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "pwa", "dist"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "pwa", "dist", "index.html"), []byte("<h1>pwa</h1>"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "apps.d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pwa.conf"), []byte("root = ~/pwa/dist\nroute = /pwa/\nspa = on\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := New(Options{Dir: dir, Sup: apps.Config{Home: home}})
	for _, path := range []string{"/pwa/", "/pwa/some/route"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if b, _ := io.ReadAll(w.Result().Body); w.Code != 200 || string(b) != "<h1>pwa</h1>" {
			t.Errorf("GET %s: %d %q", path, w.Code, b)
		}
	}
}
