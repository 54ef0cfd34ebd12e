package httppool

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestKeepAlive(t *testing.T) {
	srv, truth := newServer(t, hello)
	p := newPool(t)
	c := client(t, p, &http.Transport{})
	const n = 20
	for range n {
		get(t, c, srv.URL)
	}
	st := matchTruth(t, p, truth)
	check(t, st, map[string]float64{
		"Requests": n, "Responses": n, "Errors": 0, "InFlight": 0, "Active": 0,
		"Idle": float64(st.Open), "Waiting": 0, "ReuseRatio": float64(st.Reused) / n,
	})
	// Normally one connection carries all: Opened 1, Reused n-1.
	if st.Idle < 1 || st.ReuseRatio < 0.8 {
		t.Errorf("keep-alive: Idle = %d, ReuseRatio = %v; want >= 1 and >= 0.8", st.Idle, st.ReuseRatio)
	}
	c.CloseIdleConnections()
	check(t, p.Stats(), map[string]float64{"Closed": float64(st.Opened), "Open": 0, "Idle": 0})
}

func TestKeepAlivesDisabled(t *testing.T) {
	srv, truth := newServer(t, hello)
	p := newPool(t)
	c := client(t, p, &http.Transport{DisableKeepAlives: true})
	const n = 10
	for range n {
		get(t, c, srv.URL)
	}
	st := waitFor(t, "all connections closed", p, func(s Stats) bool { return s.Closed == n })
	check(t, st, map[string]float64{
		"Requests": n, "Opened": n, "Open": 0, "Active": 0, "Idle": 0,
		"Reused": 0, "ReuseRatio": 0, "InFlight": 0,
	})
	if got := truth.accepted.Load(); got != n {
		t.Errorf("server accepted %d connections, want %d", got, n)
	}
}

// TestBodiesNeverClosed is the classic leak: every response holds its
// connection until its body is closed, so open and active connections grow.
func TestBodiesNeverClosed(t *testing.T) {
	srv, _ := newServer(t, hello)
	p := newPool(t)
	c := client(t, p, &http.Transport{})
	var bodies []io.ReadCloser
	for i := 1; i <= 5; i++ {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, resp.Body)
		check(t, p.Stats(), map[string]float64{
			"Requests": float64(i), "InFlight": float64(i), "Opened": float64(i),
			"Open": float64(i), "Active": float64(i), "Idle": 0, "Reused": 0, "Waiting": 0,
		})
	}
	for i, b := range bodies {
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil { // a second Close must not count twice
			t.Fatal(err)
		}
		if got, want := p.Stats().InFlight, int64(len(bodies)-i-1); got != want {
			t.Errorf("after %d closes InFlight = %d, want %d", i+1, got, want)
		}
	}
	st := p.Stats()
	check(t, st, map[string]float64{"InFlight": 0, "Active": 0})
	if st.Idle != st.Open {
		t.Errorf("Idle = %d, want Open = %d", st.Idle, st.Open)
	}
}

// TestServerClosesConnections: the server ends every connection after one
// response ("Connection: close"), then drops idle ones on its own.
func TestServerClosesConnections(t *testing.T) {
	t.Run("connection close header", func(t *testing.T) {
		srv, _ := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		}))
		p := newPool(t)
		c := client(t, p, &http.Transport{})
		const n = 8
		for range n {
			get(t, c, srv.URL)
		}
		st := waitFor(t, "closes", p, func(s Stats) bool { return s.Closed == n })
		check(t, st, map[string]float64{"Requests": n, "Opened": n, "Open": 0, "Reused": 0, "Errors": 0})
	})
	t.Run("idle connections dropped", func(t *testing.T) {
		srv, truth := newServer(t, hello)
		p := newPool(t)
		c := client(t, p, &http.Transport{})
		get(t, c, srv.URL)
		get(t, c, srv.URL)
		st := matchTruth(t, p, truth)
		check(t, st, map[string]float64{"Open": 1, "Idle": 1})
		srv.CloseClientConnections()
		st = waitFor(t, "the client to see the close", p, func(s Stats) bool { return s.Open == 0 })
		check(t, st, map[string]float64{"Closed": float64(st.Opened), "Idle": 0})
		get(t, c, srv.URL)
		st = matchTruth(t, p, truth)
		check(t, st, map[string]float64{"Requests": 3, "Open": 1, "Idle": 1})
	})
}

func TestStatusCodes(t *testing.T) {
	srv, _ := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscanf(r.URL.Query().Get("code"), "%d", &code)
		w.WriteHeader(code)
	}))
	p := newPool(t)
	c := client(t, p, &http.Transport{})
	for _, code := range []int{200, 204, 404, 500, 502, 503, 599} {
		get(t, c, fmt.Sprintf("%s/?code=%d", srv.URL, code))
	}
	check(t, p.Stats(), map[string]float64{
		"Requests": 7, "Responses": 7, "Errors": 0, "Responses5xx": 4, "InFlight": 0,
	})
}

// TestNoBody: a response without a body (HEAD, 204) ends its request when
// RoundTrip returns, even if the caller never closes the body.
func TestNoBody(t *testing.T) {
	srv, _ := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	p := newPool(t)
	c := client(t, p, &http.Transport{})
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		req, err := http.NewRequest(method, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Body != http.NoBody {
			t.Fatalf("%s: body %T, want http.NoBody", method, resp.Body)
		}
		if got := p.Stats().InFlight; got != 0 {
			t.Errorf("%s: InFlight = %d, want 0", method, got)
		}
	}
}

func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer close(release)
	p := newPool(t)
	c := client(t, p, &http.Transport{})
	get(t, c, srv.URL) // dial first, so that the timeout hits the request, not the dial
	c.Timeout = 5 * time.Millisecond
	_, err := c.Get(srv.URL + "/slow")
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("GET error %v, want a timeout", err)
	}
	st := waitFor(t, "the timed-out connection to close", p, func(s Stats) bool { return s.Open == 0 })
	check(t, st, map[string]float64{
		"Requests": 2, "Errors": 1, "Responses": 1, "InFlight": 0, "DialErrors": 0, "Reused": 0,
	})
}

// TestSwitchingProtocols: a 101 response's body is the connection itself; it
// stays an io.ReadWriteCloser, the request ends at once, and the connection
// stays open until the caller closes it.
func TestSwitchingProtocols(t *testing.T) {
	srv, _ := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		rw.Flush()
		line, _ := rw.ReadString('\n')
		rw.WriteString(line)
		rw.Flush()
	}))
	p := newPool(t)
	c := client(t, p, &http.Transport{})
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		t.Fatalf("101 body %T is not an io.ReadWriteCloser", resp.Body)
	}
	check(t, p.Stats(), map[string]float64{"InFlight": 0, "Opened": 1, "Open": 1})
	io.WriteString(rwc, "ping\n")
	buf := make([]byte, 5)
	if _, err := io.ReadFull(rwc, buf); err != nil || string(buf) != "ping\n" {
		t.Fatalf("echo = %q, %v; want \"ping\\n\"", buf, err)
	}
	rwc.Close()
	check(t, p.Stats(), map[string]float64{"Opened": 1, "Closed": 1, "Open": 0})
}

func TestWrap(t *testing.T) {
	srv, _ := newServer(t, hello)
	p := newPool(t)
	tr := &http.Transport{}
	c := &http.Client{Transport: p.Wrap(tr)}
	defer c.CloseIdleConnections()
	get(t, c, srv.URL)
	get(t, c, srv.URL)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	check(t, p.Stats(), map[string]float64{
		"Requests": 3, "Responses": 3, "InFlight": 1,
		"Opened": 0, "Open": 0, "Active": 0, "Reused": 0, "Waiting": 0,
	})
	resp.Body.Close()
	check(t, p.Stats(), map[string]float64{"InFlight": 0})
}

// TestConcurrent: N goroutines x M requests through one transport; every
// count matches what the server saw.
func TestConcurrent(t *testing.T) {
	srv, truth := newServer(t, hello)
	p := newPool(t)
	c := client(t, p, &http.Transport{MaxIdleConnsPerHost: 4})
	const goroutines, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for range each {
				if err := fetch(c, srv.URL); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := matchTruth(t, p, truth)
	check(t, st, map[string]float64{
		"Requests": goroutines * each, "Responses": goroutines * each, "Errors": 0,
		"InFlight": 0, "Active": 0, "Waiting": 0,
		"Idle": float64(st.Open),
	})
	if st.Open != int64(st.Opened-st.Closed) {
		t.Errorf("Open = %d, want Opened-Closed = %d", st.Open, st.Opened-st.Closed)
	}
	t.Logf("opened %d closed %d reused %d (%.1f%%)", st.Opened, st.Closed, st.Reused, 100*st.ReuseRatio)
}

// TestMaxConnsPerHost: with one connection allowed and a slow server, the
// other requests wait for it.
func TestMaxConnsPerHost(t *testing.T) {
	arrived := make(chan struct{}, 3)
	release := make(chan struct{})
	srv, truth := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		arrived <- struct{}{}
		<-release
		io.WriteString(w, "slow")
	}))
	p := newPool(t)
	c := client(t, p, &http.Transport{MaxConnsPerHost: 1})
	const n = 3
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- fetch(c, srv.URL) })
	}
	<-arrived // one request holds the only connection
	st := waitFor(t, "all requests in flight", p, func(s Stats) bool { return s.InFlight == n })
	check(t, st, map[string]float64{"Open": 1, "Active": 1, "Idle": 0, "Waiting": n - 1})
	close(release)
	wg.Wait()
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	check(t, p.Stats(), map[string]float64{
		"Requests": n, "InFlight": 0, "Waiting": 0, "Open": 1, "Idle": 1,
	})
	matchTruth(t, p, truth)
}

// TestBodyReadToEOF: reading a body to its end finishes the request even if
// the caller never closes it, and the connection goes back to the pool.
func TestBodyReadToEOF(t *testing.T) {
	srv, truth := newServer(t, hello)
	p := newPool(t)
	c := client(t, p, &http.Transport{})
	for range 3 {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err != nil {
			t.Fatal(err)
		}
		// no Close
	}
	st := matchTruth(t, p, truth)
	check(t, st, map[string]float64{"InFlight": 0, "Active": 0, "Idle": float64(st.Open)})
}

// TestSeveralTransports: two transports feed one pool; each transport's
// requests are paired with its own connections.
func TestSeveralTransports(t *testing.T) {
	h1, _ := newServer(t, hello)
	h2, _, h2Transport := newH2Server(t, hello)
	p := newPool(t)
	c1 := client(t, p, &http.Transport{})
	c2 := client(t, p, h2Transport)

	// two idle HTTP/1 connections
	var held []io.ReadCloser
	for range 2 {
		resp, err := c1.Get(h1.URL)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, resp.Body)
	}
	for _, b := range held {
		io.Copy(io.Discard, b)
		b.Close()
	}
	// five unread HTTP/2 bodies on one connection
	get(t, c2, h2.URL)
	held = held[:0]
	for range 5 {
		resp, err := c2.Get(h2.URL)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, resp.Body)
	}
	check(t, p.Stats(), map[string]float64{
		"Requests": 8, "InFlight": 5, "Opened": 3, "Open": 3,
		"Active": 1, "Idle": 2, "Waiting": 0, "Reused": 5,
	})
	for _, b := range held {
		b.Close()
	}
	check(t, p.Stats(), map[string]float64{"InFlight": 0, "Active": 0, "Idle": 3})
}
