package main

import (
	"bytes"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func (bn *bench) storm() *section {
	s := &section{key: "storm", title: "Disconnect storm"}
	n, conc := bn.cfg.storm, bn.cfg.stormConc
	s.setup = []string{
		fmt.Sprintf("%d clients, %d at a time, against the `-tags webuitest` build on its defaults (access log on, max_conns 512): each connects, sends its GET, reads part of the response, then closes with SO_LINGER 0 (a TCP reset) while the server is still writing. Half ask `/_test/big?size=8388608` (8 MiB, hard-closed after 64 KiB), half `/_test/slow?d=10s` (a line every 50 ms for 10 s, hard-closed after the first).", n, conc),
		"Goroutines and open fds come from `GET /health?deep=1` before the storm, right after it, and once settled (polled every 200 ms for up to 20 s until both are within 5 of the baseline).",
	}
	in, err := newInst(bn.b.webuitest, filepath.Join(bn.tmp, "storm"))
	if err != nil {
		s.err = err
		return s
	}
	srv, err := in.serve()
	if err != nil {
		s.err = err
		return s
	}
	defer srv.stop(syscall.SIGTERM, 10*time.Second)
	if _, err := waitHealth(in.addr, 15*time.Second, 10*time.Millisecond, nil); err != nil {
		s.err = err
		return s
	}
	time.Sleep(500 * time.Millisecond)
	base, _, err := getHealth(in.addr, true)
	if err != nil {
		s.err = err
		return s
	}
	var done, dialErr, readErr atomic.Int64
	var mu sync.Mutex
	errKinds := map[string]int{}
	var next atomic.Int64
	begin := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				err := hardClose(in.addr, i%2 == 0)
				switch {
				case err == nil:
					done.Add(1)
				case isDial(err):
					dialErr.Add(1)
				default:
					readErr.Add(1)
				}
				if err != nil {
					mu.Lock()
					errKinds[errClass(err)]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(begin)
	progress("storm: %d clients in %s", n, took.Round(time.Millisecond))
	alive := srv.alive()
	after, _, errAfter := getHealth(in.addr, true)
	settled, settleTook := after, time.Duration(0)
	t0 := time.Now()
	for errAfter == nil && time.Since(t0) < 20*time.Second {
		h, _, err := getHealth(in.addr, true)
		if err != nil {
			errAfter = err
			break
		}
		settled, settleTook = h, time.Since(t0)
		if h.Goroutines <= base.Goroutines+5 && h.OpenFDs <= base.OpenFDs+5 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	deaths := 0
	if !alive || !srv.alive() || errAfter != nil {
		deaths = 1
	}
	t := table{header: []string{"clients", "hard-closed mid-response", "client errors (dial / read)", "deaths", "goroutines before / right after / settled", "open fds before / right after / settled", "settled after", "storm took"}}
	g, f := "–", "–"
	if after != nil && settled != nil {
		g = fmt.Sprintf("%d / %d / %d", base.Goroutines, after.Goroutines, settled.Goroutines)
		f = fmt.Sprintf("%d / %d / %d", base.OpenFDs, after.OpenFDs, settled.OpenFDs)
	}
	t.add(strconv.Itoa(n), strconv.FormatInt(done.Load(), 10), fmt.Sprintf("%d / %d", dialErr.Load(), readErr.Load()), strconv.Itoa(deaths), g, f,
		settleTook.Round(time.Millisecond).String(), took.Round(time.Millisecond).String())
	s.tables = append(s.tables, t)
	if len(errKinds) > 0 {
		s.notes = append(s.notes, fmt.Sprintf("Client errors by kind: %v", errKinds))
	}
	if errAfter != nil {
		s.notes = append(s.notes, "After the storm /health failed: "+errAfter.Error())
	}
	s.target("deaths = 0", strconv.Itoa(deaths), deaths == 0)
	back := settled != nil && settled.Goroutines <= base.Goroutines+5 && settled.OpenFDs <= base.OpenFDs+5
	res := "–"
	if settled != nil {
		res = fmt.Sprintf("goroutines %d→%d, fds %d→%d after %s", base.Goroutines, settled.Goroutines, base.OpenFDs, settled.OpenFDs, settleTook.Round(time.Millisecond))
	}
	s.target("goroutines and fds back to the baseline (±5)", res, back)
	return s
}

func isDial(err error) bool {
	var oe *net.OpError
	if ok := asOpErr(err, &oe); ok {
		return oe.Op == "dial"
	}
	return false
}

func asOpErr(err error, target **net.OpError) bool {
	for err != nil {
		if oe, ok := err.(*net.OpError); ok {
			*target = oe
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// hardClose asks for a long response, reads part of it, and resets the
// connection.
func hardClose(addr string, big bool) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	tc := c.(*net.TCPConn)
	defer func() {
		_ = tc.SetLinger(0)
		_ = tc.Close()
	}()
	_ = tc.SetDeadline(time.Now().Add(15 * time.Second))
	path, want := "/_test/slow?d=10s", []byte("tick\n")
	if big {
		path = "/_test/big?size=8388608"
	}
	if _, err := fmt.Fprintf(tc, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr); err != nil {
		return err
	}
	buf := make([]byte, 32<<10)
	var got int
	var seen []byte
	for {
		k, err := tc.Read(buf)
		got += k
		if !big {
			seen = append(seen, buf[:k]...)
			if i := bytes.Index(seen, []byte("\r\n\r\n")); i >= 0 && bytes.Contains(seen[i:], want) {
				return nil
			}
		} else if got >= 64<<10 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
