package apps

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, file, text string
		want             func(*Spec) // edits Defaults("notes")+File into what Parse must return
		err              string      // the FileError's text, "" for success
	}{
		{name: "minimal process", text: "command = python3 app.py\n", want: func(s *Spec) {
			s.Kind, s.Command = Process, []string{"python3", "app.py"}
		}},
		{name: "everything", text: strings.Join([]string{
			`command = sh -c 'exec python3 -m http.server "$PORT"'`, "dir = ~/notes", "port = 8123",
			"route = /n", "health = /healthz", "strip_prefix = off", "env.DEBUG = 1", `env.GREETING = "a # b"`,
			"restart = always", "stop_signal = int", "stop_timeout = 3s", "auth = off", ""}, "\n"),
			want: func(s *Spec) {
				s.Kind = Process
				s.Command = []string{"sh", "-c", `exec python3 -m http.server "$PORT"`}
				s.Dir, s.Port, s.Route, s.Health, s.StripPrefix = "~/notes", 8123, "/n/", "/healthz", false
				s.Env = []string{"DEBUG=1", "GREETING=a # b"}
				s.Restart, s.StopSignal, s.StopTimeout, s.Auth = RestartAlways, syscall.SIGINT, 3*time.Second, false
			}},
		{name: "static", text: "root = /srv/site\nspa = on\nlisting = on\n", want: func(s *Spec) {
			s.Kind, s.Root, s.SPA, s.Listing = Static, "/srv/site", true, true
		}},
		{name: "unix upstream", text: "upstream = unix:/run/x.sock\n", want: func(s *Spec) { s.Kind, s.Upstream = Proxy, "unix:/run/x.sock" }},
		{name: "localhost upstream", text: "upstream = http://localhost:8888/\n", want: func(s *Spec) { s.Kind, s.Upstream = Proxy, "http://localhost:8888" }},
		{name: "ipv6 loopback upstream", text: "upstream = http://[::1]:08888\n", want: func(s *Spec) { s.Kind, s.Upstream = Proxy, "http://[::1]:8888" }},
		{name: "route normalized", text: "command = x\nroute = /a//b/\n", want: func(s *Spec) { s.Kind, s.Command, s.Route = Process, []string{"x"}, "/a/b/" }},
		{name: "port auto", text: "command = x\nport = auto\n", want: func(s *Spec) { s.Kind, s.Command = Process, []string{"x"} }},

		{name: "no kind", text: "route = /x/\n", err: "notes.conf: no command, root or upstream"},
		{name: "two kinds", text: "command = x\nroot = /srv\n", err: "notes.conf: more than one of command, root and upstream: command (line 1), root (line 2)"},
		{name: "unknown key", text: "command = x\ncomand = y\n", err: `notes.conf:2: unknown key "comand"`},
		{name: "bad env name", text: "command = x\nenv.1A = y\n", err: `notes.conf:2: unknown key "env.1A"`},
		{name: "twice", text: "command = x\ncommand = y\n", err: "notes.conf:2: command is set again (first set on line 1"},
		{name: "malformed", text: "command x\n", err: "notes.conf:1: malformed line"},
		{name: "bad quote", text: "command = sh -c 'x\n", err: "notes.conf:1: command: unterminated ' quote"},
		{name: "empty command", text: "command = \"\"\n", err: "notes.conf:1: command: empty"},
		{name: "port range", text: "command = x\nport = 70000\n", err: `notes.conf:2: port: "70000" (allowed: auto, or 1-65535)`},
		{name: "route relative", text: "command = x\nroute = notes/\n", err: `notes.conf:2: route: "notes/" does not start with /`},
		{name: "route root", text: "command = x\nroute = /\n", err: `notes.conf:2: route: "/" is webui's console`},
		{name: "route api", text: "command = x\nroute = /api/x\n", err: "collides with webui's own /api/"},
		{name: "route assets", text: "command = x\nroute = /assets\n", err: "collides with webui's own /assets/"},
		{name: "route health", text: "command = x\nroute = /health\n", err: "collides with webui's own /health"},
		{name: "route login", text: "command = x\nroute = /login/\n", err: "collides with webui's own /login"},
		{name: "route manifest", text: "command = x\nroute = /manifest.webmanifest\n", err: "collides with webui's own /manifest.webmanifest"},
		{name: "route dotdot", text: "command = x\nroute = /a/../api/\n", err: "route:"},
		{name: "healthz is not health", text: "command = x\nroute = /healthz\n", want: func(s *Spec) { s.Kind, s.Command, s.Route = Process, []string{"x"}, "/healthz/" }},
		{name: "lan upstream", text: "upstream = http://192.168.1.5:80\n", err: "not a loopback host"},
		{name: "https upstream", text: "upstream = https://127.0.0.1:80\n", err: "upstream:"},
		{name: "upstream no port", text: "upstream = http://127.0.0.1\n", err: "no port"},
		{name: "upstream port 0", text: "upstream = http://127.0.0.1:0\n", err: "no port"},
		{name: "upstream named host", text: "upstream = http://example.com:80\n", err: "not a loopback host"},
		{name: "upstream relative socket", text: "upstream = unix:x.sock\n", err: "must be absolute"},
		{name: "restart", text: "command = x\nrestart = sometimes\n", err: `restart: "sometimes" (allowed: always, on-failure, never)`},
		{name: "signal", text: "command = x\nstop_signal = USR1\n", err: "stop_signal:"},
		{name: "timeout", text: "command = x\nstop_timeout = soon\n", err: "stop_timeout:"},
		{name: "bool", text: "command = x\nauth = maybe\n", err: `auth: "maybe" (allowed: on, off)`},
		{name: "dir relative", text: "command = x\ndir = src\n", err: "not an absolute path"},
		{name: "spa on a process", text: "command = x\nspa = on\n", err: "notes.conf:2: spa is for a root (static) app"},
		{name: "port on static", text: "root = /srv\nport = 80\n", err: "notes.conf:2: port is for a command app"},
		{name: "default route reserved", file: "api.conf", text: "command = x\n", err: `api.conf: route: "/api/" collides with webui's own /api/`},
		{name: "bad file name", file: "Notes.conf", text: "command = x\n", err: `bad app file name "Notes.conf"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = "notes.conf"
			}
			got, ferr := Parse(file, []byte(tc.text))
			if tc.err != "" {
				if ferr == nil {
					t.Fatalf("no error; got %+v", got)
				}
				if msg := ferr.Error(); !strings.Contains(msg, tc.err) || strings.Contains(msg, "\n") {
					t.Fatalf("error %q, want one line containing %q", msg, tc.err)
				}
				return
			}
			if ferr != nil {
				t.Fatal(ferr)
			}
			want := Defaults("notes")
			want.File = file
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		`python3 app.py --port 8`:       {"python3", "app.py", "--port", "8"},
		`  a   b  `:                     {"a", "b"},
		`sh -c 'echo "$PORT"; exit 3'`:  {"sh", "-c", `echo "$PORT"; exit 3`},
		`a\ b "c \"d\" \$e \x" ''`:      {"a b", `c "d" $e \x`, ""},
		`'it'"'"'s'`:                    {`it's`},
		``:                              nil,
		`node "/sd card/app.js" --x=1`:  {"node", "/sd card/app.js", "--x=1"},
		`echo $HOME | cat > /dev/null`:  {"echo", "$HOME", "|", "cat", ">", "/dev/null"},
		`jupyter notebook --no-browser`: {"jupyter", "notebook", "--no-browser"},
	} {
		got, err := SplitCommand(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
		if back, err := SplitCommand(JoinCommand(got)); err != nil || !reflect.DeepEqual(back, got) && len(got) > 0 {
			t.Errorf("JoinCommand(%q) = %q reads back as %q, %v", got, JoinCommand(got), back, err)
		}
	}
	for _, in := range []string{`a 'b`, `a "b`, `a\`} {
		if got, err := SplitCommand(in); err == nil {
			t.Errorf("SplitCommand(%q) = %q, want an error", in, got)
		}
	}
}

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "good.conf", "command = x\n")
	write(t, dir, "site.conf", "root = /srv\nroute = /s/\n")
	write(t, dir, "broken.conf", "command = x\nbogus = 1\n")
	write(t, dir, "wide.conf", "command = y\nroute = /a/\n")
	write(t, dir, "narrow.conf", "# under /a/\ncommand = z\nroute = /a/b\n")
	write(t, dir, "notes.conf.dpkg-new", "garbage\n")
	write(t, dir, "README", "garbage\n")
	specs, errs := LoadDir(dir)
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	if !reflect.DeepEqual(names, []string{"good", "site"}) {
		t.Errorf("loaded %v, want [good site]", names)
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		filepath.Join(dir, "broken.conf") + `:2: unknown key "bogus"`,
		filepath.Join(dir, "narrow.conf") + ":3: route /a/b/ overlaps route /a/ of " + filepath.Join(dir, "wide.conf"),
		filepath.Join(dir, "wide.conf") + ":2: route /a/ overlaps route /a/b/ of " + filepath.Join(dir, "narrow.conf"),
	}
	if len(msgs) != len(want) {
		t.Fatalf("errors %q, want %d", msgs, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(msgs[i], want[i]) {
			t.Errorf("error %d = %q, want %q...", i, msgs[i], want[i])
		}
	}
	if s, e := LoadDir(filepath.Join(dir, "missing")); s != nil || e != nil {
		t.Errorf("a missing dir: %v %v, want no apps and no errors", s, e)
	}
}

func TestAdd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "apps.d")
	s := Defaults("notes")
	s.Kind = Process
	s.Command = []string{"sh", "-c", `echo "# not a comment" $PORT`}
	s.Route, s.Health, s.Env, s.Auth = "/n/", "/healthz", []string{"A=b c"}, false
	file, err := Add(dir, s, false)
	if err != nil {
		t.Fatal(err)
	}
	got, ferr := LoadFile(file)
	if ferr != nil {
		t.Fatal(ferr)
	}
	s.File = file
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("read back %+v\nwant %+v", got, s)
	}
	for p, want := range map[string]os.FileMode{dir: 0o755, file: 0o644} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), want)
		}
	}
	before, _ := os.ReadFile(file)
	s2 := s
	s2.Command = []string{"other"}
	if _, err := Add(dir, s2, false); !errors.Is(err, ErrExists) {
		t.Fatalf("second Add: %v, want ErrExists", err)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Fatal("a refused Add changed the file")
	}
	// An overlapping route, or one that cannot load, replaces nothing.
	o := Defaults("other")
	o.Kind, o.Command, o.Route = Process, []string{"x"}, "/n/sub/"
	if _, err := Add(dir, o, false); err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Fatalf("overlapping Add: %v", err)
	}
	bad := s
	bad.Route = "/api/"
	if _, err := Add(dir, bad, true); err == nil || !strings.Contains(err.Error(), "collides") {
		t.Fatalf("Add with a reserved route: %v", err)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Fatal("a failed Add changed the file")
	}
	if _, err := os.Stat(filepath.Join(dir, "other.conf")); err == nil {
		t.Fatal("a refused Add left a file")
	}
	if _, err := Add(dir, s2, true); err != nil {
		t.Fatalf("Add with overwrite: %v", err)
	}
	if got, _ := LoadFile(file); !reflect.DeepEqual(got.Command, []string{"other"}) {
		t.Fatalf("overwrite: command %q", got.Command)
	}
}

// FuzzParseApp: Parse never panics, a success is a valid spec, and what
// Render writes for it reads back as the same spec.
func FuzzParseApp(f *testing.F) {
	for _, s := range []string{
		"command = python3 app.py\nport = auto\nroute = /notes/\nhealth = /healthz\n",
		"command = sh -c 'echo \"$PORT\"' # c\nenv.A = \"x # y\"\nrestart = never\nstop_signal = KILL\nstop_timeout = 2s\n",
		"root = /srv/www\nspa = on\nlisting = off\nauth = off\n",
		"upstream = http://127.0.0.1:8888\nstrip_prefix = off\nroute = /lab\n",
		"upstream = unix:/tmp/s.sock\n",
		"\ufeffcommand = a\\ b\n; comment\n",
		"command = x\nroute = /api/\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, ferr := Parse("/etc/apps.d/app.conf", data)
		if ferr != nil {
			if strings.Contains(ferr.Error(), "\n") {
				t.Fatalf("error is not one line: %q", ferr.Error())
			}
			return
		}
		if s.Kind == "" || !strings.HasPrefix(s.Route, "/") || !strings.HasSuffix(s.Route, "/") || s.Route == "/" {
			t.Fatalf("bad spec %+v", s)
		}
		back, ferr := Parse(s.File, Render(s))
		if ferr != nil {
			t.Fatalf("Render of %+v does not parse: %v\n%s", s, ferr, Render(s))
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip:\n%+v\n%+v\n%s", s, back, Render(s))
		}
	})
}

// An app file runs its command as webui's user: one that others may write
// is refused, and so is every file in a dir that others may write.
func TestLoadRefusesWritableByOthers(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "evil.conf", "command = sh -c 'id > /tmp/owned'\n")
	write(t, dir, "fine.conf", "command = x\n")
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	specs, errs := LoadDir(dir)
	if len(specs) != 1 || specs[0].Name != "fine" || len(errs) != 1 || !strings.Contains(errs[0].Error(), "evil.conf: writable by group or others (mode 0666)") {
		t.Fatalf("specs %+v errs %v", specs, errs)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	specs, errs = LoadDir(dir)
	if len(specs) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "no app in it is loaded") {
		t.Fatalf("world-writable dir: specs %+v errs %v", specs, errs)
	}
}

// FuzzNames holds the hand-written name checks to the patterns they
// replace.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"", "notes", "my-app2", "A", "a_b", "_x", "X1", "1x", "é", strings.Repeat("a", 65)} {
		f.Add(s)
	}
	app := regexp.MustCompile(`^[a-z0-9-]+$`)
	env := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidName(s), len(s) <= 64 && app.MatchString(s); got != want {
			t.Errorf("ValidName(%q) = %v, the pattern says %v", s, got, want)
		}
		if got, want := validEnvName(s), env.MatchString(s); got != want {
			t.Errorf("validEnvName(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
