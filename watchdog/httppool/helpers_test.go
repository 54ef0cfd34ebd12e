package httppool

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// truth is what the server saw: connections accepted and requests per
// connection. It is the reference the pool statistics are checked against.
type truth struct {
	accepted atomic.Int64
	mu       sync.Mutex
	perConn  []*atomic.Int64
}

type connKey struct{}

// reused is the number of requests the server received on a connection that
// had already carried one.
func (tr *truth) reused() uint64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var n uint64
	for _, c := range tr.perConn {
		if v := c.Load(); v > 1 {
			n += uint64(v - 1)
		}
	}
	return n
}

// install hooks tr into srv and wraps h so that each request is counted on
// its connection.
func (tr *truth) install(srv *http.Server, h http.Handler) {
	srv.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		c := new(atomic.Int64)
		tr.mu.Lock()
		tr.perConn = append(tr.perConn, c)
		tr.mu.Unlock()
		return context.WithValue(ctx, connKey{}, c)
	}
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			tr.accepted.Add(1)
		}
		if prev != nil {
			prev(c, s)
		}
	}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(connKey{}).(*atomic.Int64); ok {
			c.Add(1)
		}
		h.ServeHTTP(w, r)
	})
}

// newServer starts an HTTP/1.1 loopback server running h, with its truth.
func newServer(t *testing.T, h http.Handler) (*httptest.Server, *truth) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	tr := &truth{}
	tr.install(srv.Config, h)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, tr
}

var hello = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	io.WriteString(w, "hello")
})

// newPool returns a pool named for the test.
func newPool(t *testing.T) *Pool {
	t.Helper()
	p, err := New("test")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// client instruments tr into p and returns a client over it whose idle
// connections are closed at the end of the test.
func client(t *testing.T, p *Pool, tr *http.Transport) *http.Client {
	t.Helper()
	c := &http.Client{Transport: p.Instrument(tr)}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// get sends a GET, reads the body to EOF and closes it.
func get(t *testing.T, c *http.Client, url string) {
	t.Helper()
	if err := fetch(c, url); err != nil {
		t.Fatal(err)
	}
}

// fetch is get for goroutines other than the test's.
func fetch(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		resp.Body.Close()
		return fmt.Errorf("read body: %w", err)
	}
	return resp.Body.Close()
}

// waitFor polls cond every millisecond until it holds, for state that
// net/http changes on its own goroutines (a connection closed by the
// transport's read loop). It fails the test after 10 s.
func waitFor(t *testing.T, what string, p *Pool, cond func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := p.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last stats %+v", what, st)
		}
		time.Sleep(time.Millisecond)
	}
}

// check compares the named fields of got with want.
func check(t *testing.T, got Stats, want map[string]float64) {
	t.Helper()
	fields := map[string]float64{
		"Requests": float64(got.Requests), "Errors": float64(got.Errors),
		"Responses5xx": float64(got.Responses5xx), "InFlight": float64(got.InFlight),
		"Opened": float64(got.Opened), "Closed": float64(got.Closed),
		"Open": float64(got.Open), "Active": float64(got.Active), "Idle": float64(got.Idle),
		"Reused": float64(got.Reused), "ReuseRatio": got.ReuseRatio,
		"Waiting": float64(got.Waiting), "DialErrors": float64(got.DialErrors),
		"Responses": float64(got.Responses), "Untracked": float64(got.Untracked),
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := fields[k]
		if !ok {
			t.Fatalf("check: unknown field %s", k)
		}
		if g != want[k] {
			t.Errorf("%s = %v, want %v (stats %+v)", k, g, want[k], got)
		}
	}
}

// matchTruth checks the pool against what the server saw: connections
// opened against connections accepted (waiting for the server's accept loop,
// which can lag the client's dial), and reused requests against requests per
// connection. Tests use it where net/http itself may decide not to reuse a
// connection: under heavy load the transport drops a connection whose
// request write has not been confirmed within 50 ms.
func matchTruth(t *testing.T, p *Pool, tr *truth) Stats {
	t.Helper()
	st := waitFor(t, "the server to accept every connection", p, func(s Stats) bool {
		return s.Opened == uint64(tr.accepted.Load())
	})
	if got, want := st.Reused, tr.reused(); got != want {
		t.Errorf("Reused = %d, server saw %d", got, want)
	}
	return st
}
