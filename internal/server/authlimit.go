package server

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Login attempts: at most loginFailures per client within loginWindow, and
// at most loginGlobal from all clients together, then 429 with
// Retry-After. A client is its address as the socket reports it, never a
// forwarded header (a local app would spoof one): every loopback address
// is one client (127.0.0.2 is as local as 127.0.0.1), an IPv6 client is
// its /64. The map of clients is bounded; the global cap is what holds
// when an attacker has more addresses than it keeps.
const (
	loginFailures = 5
	loginGlobal   = 30
	loginWindow   = time.Minute
	maxTrackedIPs = 4096
)

type loginLimiter struct {
	mu     sync.Mutex
	per    map[string][]time.Time
	global []time.Time
}

func newLoginLimiter() *loginLimiter { return &loginLimiter{per: map[string][]time.Time{}} }

// limitKey is r's client for the login limit.
func limitKey(r *http.Request) string { return clientKey(clientIP(r)) }

func clientKey(host string) string {
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return host
	case ip.IsLoopback():
		return "loopback"
	case ip.To4() != nil:
		return ip.To4().String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

func recent(ts []time.Time, now time.Time) []time.Time {
	out := ts[:0]
	for _, t := range ts {
		if now.Sub(t) < loginWindow {
			out = append(out, t)
		}
	}
	return out
}

// attempt records a login attempt by client key before the password is
// checked, so parallel guesses count too. It returns how long to wait
// when the client, or everyone together, used up the attempts.
func (l *loginLimiter) attempt(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.global = recent(l.global, now)
	mine, known := l.per[key]
	mine = recent(mine, now)
	if len(mine) >= loginFailures {
		l.per[key] = mine
		return loginWindow - now.Sub(mine[0])
	}
	if len(l.global) >= loginGlobal {
		return loginWindow - now.Sub(l.global[0])
	}
	if !known && len(l.per) >= maxTrackedIPs {
		l.evict(now)
	}
	l.per[key] = append(mine, now)
	l.global = append(l.global, now)
	return 0
}

// evict drops the clients whose attempts are all outside the window, or
// else the one that tried longest ago.
func (l *loginLimiter) evict(now time.Time) {
	oldest, oldestAt := "", time.Time{}
	for k, ts := range l.per {
		if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= loginWindow {
			delete(l.per, k)
			continue
		}
		if last := ts[len(ts)-1]; oldest == "" || last.Before(oldestAt) {
			oldest, oldestAt = k, last
		}
	}
	if len(l.per) >= maxTrackedIPs {
		delete(l.per, oldest)
	}
}

// succeeded forgets a client's failures.
func (l *loginLimiter) succeeded(key string) {
	l.mu.Lock()
	delete(l.per, key)
	l.mu.Unlock()
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func isLoopbackRemote(r *http.Request) bool {
	ip := net.ParseIP(clientIP(r))
	return ip != nil && ip.IsLoopback()
}
