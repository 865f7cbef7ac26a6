package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/apps"
)

// fakeApps routes /notes/ (protected) and /pub/ (auth = off) to a handler
// that answers 200 "app".
type fakeApps struct{}

func (fakeApps) ServeHTTP(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("app")) }
func (fakeApps) Match(path string) (bool, bool) {
	switch {
	case strings.HasPrefix(path, "/notes/"):
		return true, false
	case strings.HasPrefix(path, "/pub/"):
		return true, true
	}
	return false, false
}
func (fakeApps) List(context.Context) ([]apps.Status, error)              { return nil, nil }
func (fakeApps) Status(context.Context, string) (apps.Status, error)      { return apps.Status{}, nil }
func (fakeApps) Do(context.Context, string, string) error                 { return nil }
func (fakeApps) History(context.Context, string) ([]apps.Lifetime, error) { return nil, nil }
func (fakeApps) Reload() []*apps.FileError                                { return nil }
func (fakeApps) Logs(context.Context, string, int, bool, func(string)) error {
	return nil
}

// A browser opening a protected app without a session is sent to the
// console's sign-in page; a script gets the JSON 401, and so do a POST
// and webui's own API; a public app and a signed-in browser get the app.
func TestAppSignInRedirect(t *testing.T) {
	d := testDeps(t)
	d.CSRF = NewCSRF()
	a, err := OpenAuth(d.Config)
	if err != nil {
		t.Fatal(err)
	}
	d.Auth, d.Apps = a, fakeApps{}
	h := NewServer(d)
	const html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, c := range []struct {
		method, path, accept string
		bearer               bool
		code                 int
		loc                  string
	}{
		{"GET", "/notes/page?x=1", html, false, http.StatusSeeOther, "/"},
		{"GET", "/notes/page", "application/json", false, http.StatusUnauthorized, ""},
		{"GET", "/notes/page", "", false, http.StatusUnauthorized, ""},
		{"POST", "/notes/form", html, false, http.StatusUnauthorized, ""},
		{"HEAD", "/notes/page", html, false, http.StatusUnauthorized, ""},
		{"GET", "/api/apps", html, false, http.StatusUnauthorized, ""},
		{"GET", "/pub/page", html, false, http.StatusOK, ""},
		{"GET", "/notes/page", html, true, http.StatusOK, ""},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		r.Host, r.RemoteAddr = "127.0.0.1:8787", "127.0.0.1:40000"
		if c.accept != "" {
			r.Header.Set("Accept", c.accept)
		}
		if c.bearer {
			r.Header.Set("Authorization", "Bearer "+a.Store().Token())
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.code || w.Header().Get("Location") != c.loc {
			t.Errorf("%s %s (Accept %q, token %v): %d Location %q, want %d %q", c.method, c.path, c.accept, c.bearer, w.Code, w.Header().Get("Location"), c.code, c.loc)
		}
	}
}
