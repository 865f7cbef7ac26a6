package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/diag"
)

const (
	defaultLogLines = 200
	maxLogLines     = 5000
	sseHeartbeat    = 15 * time.Second
)

// logRank orders logrus level names; an unknown level ranks as info.
func logRank(level string) int {
	switch strings.ToLower(level) {
	case "trace":
		return 0
	case "debug":
		return 1
	case "warn", "warning":
		return 3
	case "error":
		return 4
	case "fatal", "panic":
		return 5
	}
	return 2
}

// logLevelOf is the "level" of one JSON log line ("" when it has none).
func logLevelOf(line string) string {
	var m struct {
		Level string `json:"level"`
	}
	if json.Unmarshal([]byte(line), &m) != nil {
		return ""
	}
	return m.Level
}

// handleLogs serves the JSON log: GET /api/logs?lines=N&level=L returns
// {"lines": [...]} with the last N lines at level L or above; with
// stream=1 it is a server-sent event stream, one event per line, that
// starts with those lines and follows the log across rotation.
func handleLogs(follow FollowLog, inflight *Inflight) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if follow == nil {
			writeError(w, http.StatusNotFound, "the log is not available (no log_dir)")
			return
		}
		q := r.URL.Query()
		n := defaultLogLines
		if s := q.Get("lines"); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil || v < 0 {
				writeError(w, http.StatusBadRequest, "lines must be a whole number")
				return
			}
			n = min(v, maxLogLines)
		}
		minRank := logRank("debug")
		if lv := q.Get("level"); lv != "" {
			switch lv {
			case "debug", "info", "warn", "error":
				minRank = logRank(lv)
			default:
				writeError(w, http.StatusBadRequest, "level must be debug, info, warn or error")
				return
			}
		}
		keep := func(line string) bool {
			lv := logLevelOf(line)
			return lv == "" || logRank(lv) >= minRank
		}
		if q.Get("stream") != "1" {
			lines := []string{}
			err := follow(r.Context(), n, false, func(line string) {
				if keep(line) {
					lines = append(lines, line)
				}
			})
			if err != nil {
				writeError(w, http.StatusNotFound, err.Error())
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"lines": lines})
			return
		}
		streamLogs(w, r, follow, inflight.Ending(), n, keep)
	})
}

func streamLogs(w http.ResponseWriter, r *http.Request, follow FollowLog, ending <-chan struct{}, n int, keep func(string) bool) {
	rc := http.NewResponseController(w)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	lines := make(chan string, 256)
	done := make(chan error, 1)
	diag.Go("log stream", func() {
		done <- follow(ctx, n, true, func(line string) {
			if !keep(line) {
				return
			}
			select {
			case lines <- line:
			case <-ctx.Done():
			}
		})
	})

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// retry: reconnect quickly after a restart.
	if _, err := w.Write([]byte("retry: 1500\n: webui log\n\n")); err != nil {
		return
	}
	_ = rc.Flush()

	beat := time.NewTicker(sseHeartbeat)
	defer beat.Stop()
	for {
		var msg string
		select {
		case line := <-lines:
			msg = "data: " + strings.NewReplacer("\r", "", "\n", " ").Replace(line) + "\n\n"
		case <-beat.C:
			msg = ": keep-alive\n\n"
		case err := <-done:
			if err != nil {
				_, _ = w.Write([]byte("event: failure\ndata: " + jsonString(err.Error()) + "\n\n"))
				_ = rc.Flush()
			}
			return
		case <-ending:
			return // the server drains: the client reconnects to the next one
		case <-ctx.Done():
			return
		}
		if _, err := w.Write([]byte(msg)); err != nil {
			return
		}
		if len(lines) == 0 {
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
