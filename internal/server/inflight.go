package server

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Inflight tracks the requests being served: diagnostics record them when a
// signal arrives, and a restart waits for them to finish.
type Inflight struct {
	mu   sync.Mutex
	next uint64
	reqs map[uint64]InflightRequest
	n    atomic.Int64
	// ending is closed when the server begins to drain (EndStreams).
	ending chan struct{}
}

// InflightRequest is one request being served.
type InflightRequest struct {
	Method  string    `json:"method"`
	Path    string    `json:"path"`
	Remote  string    `json:"remote"`
	Started time.Time `json:"started"`
	Stream  bool      `json:"stream,omitempty"`
}

// NewInflight returns an empty tracker.
func NewInflight() *Inflight {
	return &Inflight{reqs: map[uint64]InflightRequest{}, ending: make(chan struct{})}
}

// Ending is closed when the server begins to drain: streaming handlers
// (server-sent events) return then, so a restart or stop does not wait
// shutdown_timeout for them. Clients reconnect to the next process.
func (f *Inflight) Ending() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ending == nil {
		f.ending = make(chan struct{})
	}
	return f.ending
}

// EndStreams ends the streams in flight (see Ending). Streams started
// afterwards get a fresh channel: a failed restart serves on.
func (f *Inflight) EndStreams() {
	f.mu.Lock()
	if f.ending != nil {
		close(f.ending)
	}
	f.ending = make(chan struct{})
	f.mu.Unlock()
}

func (f *Inflight) add(r InflightRequest) uint64 {
	f.mu.Lock()
	f.next++
	id := f.next
	f.reqs[id] = r
	f.mu.Unlock()
	f.n.Add(1)
	return id
}

func (f *Inflight) done(id uint64) {
	f.mu.Lock()
	delete(f.reqs, id)
	f.mu.Unlock()
	f.n.Add(-1)
}

// Count is the number of requests in flight.
func (f *Inflight) Count() int { return int(f.n.Load()) }

// List returns the requests in flight, oldest first.
func (f *Inflight) List() []InflightRequest {
	f.mu.Lock()
	out := make([]InflightRequest, 0, len(f.reqs))
	for _, r := range f.reqs {
		out = append(out, r)
	}
	f.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

// WaitIdle waits until at most exclude requests are in flight (the caller
// may itself be a request), or ctx ends. It reports whether idle was reached.
func (f *Inflight) WaitIdle(ctx context.Context, exclude int) bool {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for f.Count() > exclude {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}
