package harness

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Health is the part of the /health document the tests read.
type Health struct {
	Status     string                     `json:"status"`
	Version    string                     `json:"version"`
	PID        int                        `json:"pid"`
	StartedAt  time.Time                  `json:"started_at"`
	UptimeS    float64                    `json:"uptime_s"`
	Platform   map[string]any             `json:"platform"`
	Restart    map[string]string          `json:"restart"`
	Checks     map[string]json.RawMessage `json:"checks"`
	Goroutines int                        `json:"goroutines"`
	OpenFDs    int                        `json:"open_fds"`
}

// GetHealth asks addr for /health (deep: /health?deep=1).
func GetHealth(c *http.Client, addr string, deep bool) (*Health, int, error) {
	u := "http://" + addr + "/health"
	if deep {
		u += "?deep=1"
	}
	resp, err := c.Get(u)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var h Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return nil, resp.StatusCode, err
	}
	return &h, resp.StatusCode, nil
}

// WaitHealth polls /health every step until it answers 200 and ok(h).
func WaitHealth(c *http.Client, addr string, within, step time.Duration, ok func(*Health) bool) (*Health, error) {
	deadline := time.Now().Add(within)
	for {
		h, code, err := GetHealth(c, addr, false)
		if err == nil && code == 200 && (ok == nil || ok(h)) {
			return h, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("status %d", code)
			}
			return nil, fmt.Errorf("no matching /health at %s within %s (last: %v)", addr, within, err)
		}
		time.Sleep(step)
	}
}
