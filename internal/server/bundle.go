package server

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/paths"
)

// Caps that keep the evidence bundle small enough to share from a phone.
const (
	bundleRecordMax   = 8 << 20  // per lifetime record or crash file (its head)
	bundleRecordTotal = 32 << 20 // all lifetime files together
	bundleLogTail     = 2 << 20  // per log file (its tail)
	bundleMaxLogFiles = 16
)

// handleDiagBundle streams a .tar.gz of the evidence: the lifetime records
// and crash files, the tails of the log files, the platform report, the
// lifetimes as diagnose judges them, and the config file. Every file is
// redacted by content (see Redact).
func handleDiagBundle(cfg *config.Config, version string, pid int, status func() platformDoc, lts Lifetimes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().UTC()
		base := "webui-diag-" + now.Format("20060102-150405")
		w.Header().Set("Content-Type", "application/gzip")
		w.Header().Set("Content-Disposition", `attachment; filename="`+base+`.tar.gz"`)
		w.Header().Set("Cache-Control", "no-store")
		gz := gzip.NewWriter(w)
		tw := tar.NewWriter(gz)
		b := &bundle{tw: tw, base: base, now: now}

		var manifest strings.Builder
		fmt.Fprintf(&manifest, "webui %s evidence bundle, pid %d, made %s\n\n", version, pid, now.Format(time.RFC3339))
		manifest.WriteString("platform.json   the platform report, restart strategy, watchdog state and hints\n")
		manifest.WriteString("diagnose.json   every lifetime with its verdict (as `webui diagnose --json`)\n")
		manifest.WriteString("lifetimes/      the raw lifetime records and crash files\n")
		manifest.WriteString("logs/           the tail of each log file\n")
		manifest.WriteString("config/         the config file and the settings in effect\n")
		manifest.WriteString("\nSecrets (password hashes, access tokens, session cookies, Authorization and\n" +
			"Cookie headers, login bodies) are redacted by content in every file.\n")
		b.add("README.txt", []byte(manifest.String()), now)

		b.addJSON("platform.json", status())
		if lts != nil {
			var v any
			list, err := listLifetimes(lts)
			v = list
			if err != nil {
				v = map[string]any{"error": err.Error(), "lifetimes": list}
			}
			b.addJSON("diagnose.json", v)
		}

		total := int64(0)
		for _, p := range listFiles(string(paths.State(cfg.StateDir).Lifetimes()), 0) {
			if total >= bundleRecordTotal {
				b.note("lifetimes: more files left out (bundle cap)")
				break
			}
			data, mod, err := readHead(p, bundleRecordMax)
			if err != nil {
				b.note(err.Error())
				continue
			}
			total += int64(len(data))
			b.add("lifetimes/"+filepath.Base(p), data, mod)
		}

		if cfg.LogDir != "" {
			for _, p := range listFiles(cfg.LogDir, bundleMaxLogFiles) {
				data, mod, err := readTail(p, bundleLogTail)
				if err != nil {
					b.note(err.Error())
					continue
				}
				b.add("logs/"+filepath.Base(p), data, mod)
			}
		}

		if f := cfg.ConfigFile; f != "" {
			if data, mod, err := readHead(f, 1<<20); err == nil {
				b.add("config/"+filepath.Base(f), data, mod)
			} else if !os.IsNotExist(err) {
				b.note(err.Error())
			}
		}
		var settings strings.Builder
		fmt.Fprintf(&settings, "# settings in effect (source in brackets); config file %s\n", cfg.ConfigFile)
		for _, kv := range cfg.Sorted() {
			fmt.Fprintf(&settings, "%s = %s  [%s]\n", kv[0], kv[1], cfg.SourceOf(kv[0]))
		}
		b.add("config/settings.txt", []byte(settings.String()), now)
		if len(b.notes) > 0 {
			b.add("NOTES.txt", []byte(strings.Join(b.notes, "\n")+"\n"), now)
		}
		if err := tw.Close(); err == nil {
			_ = gz.Close()
		}
	})
}

type bundle struct {
	tw    *tar.Writer
	base  string
	now   time.Time
	notes []string
	err   error
}

func (b *bundle) note(s string) { b.notes = append(b.notes, s) }

func (b *bundle) add(name string, data []byte, mod time.Time) {
	if b.err != nil {
		return // the client went away
	}
	data = Redact(data) // every file, whatever it is: secrets are found by content
	hdr := &tar.Header{Name: b.base + "/" + name, Mode: 0o644, Size: int64(len(data)), ModTime: mod, Typeflag: tar.TypeReg}
	if b.err = b.tw.WriteHeader(hdr); b.err == nil {
		_, b.err = b.tw.Write(data)
	}
}

func (b *bundle) addJSON(name string, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		b.note(name + ": " + err.Error())
		return
	}
	b.add(name, append(data, '\n'), b.now)
}

// listFiles returns the regular files in dir, newest first, at most max (0
// = all).
func listFiles(dir string, max int) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	type file struct {
		path string
		mod  time.Time
	}
	var files []file
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, file{filepath.Join(dir, e.Name()), info.ModTime()})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.After(files[j].mod) })
	if max > 0 && len(files) > max {
		files = files[:max]
	}
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.path
	}
	return out
}

func readHead(path string, max int64) ([]byte, time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	data, err := io.ReadAll(io.LimitReader(f, max))
	return data, st.ModTime(), err
}

// readTail reads the last max bytes of path, from the start of a line.
func readTail(path string, max int64) ([]byte, time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	off := st.Size() - max
	if off <= 0 {
		data, err := io.ReadAll(io.LimitReader(f, max))
		return data, st.ModTime(), err
	}
	data, err := io.ReadAll(io.NewSectionReader(f, off, max))
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[i+1:]
	}
	return data, st.ModTime(), err
}
