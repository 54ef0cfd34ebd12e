package httppool

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

func TestDialErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more: connection refused
	p := newPool(t)
	c := client(t, p, &http.Transport{})
	const n = 3
	for range n {
		_, err := c.Get(url)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("GET error %v, want connection refused", err)
		}
	}
	check(t, p.Stats(), map[string]float64{
		"Requests": n, "Errors": n, "DialErrors": n, "Responses": 0,
		"InFlight": 0, "Opened": 0, "Open": 0, "Waiting": 0,
	})
}

// unixServer serves h on a unix socket, the way the Docker daemon does.
func unixServer(t *testing.T, h http.Handler) (string, *truth) {
	t.Helper()
	dir, err := os.MkdirTemp("", "httppool") // short: socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "docker.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{}
	tr := &truth{}
	tr.install(srv, h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return path, tr
}

func unixTransport(path string) *http.Transport {
	var d net.Dialer
	return &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		},
	}
}

func TestUnixSocket(t *testing.T) {
	path, truth := unixServer(t, hello)
	p := newPool(t)
	c := client(t, p, unixTransport(path))
	const n = 25
	for range n {
		get(t, c, "http://docker/v1.47/containers/json")
	}
	st := matchTruth(t, p, truth)
	check(t, st, map[string]float64{"Requests": n, "Active": 0, "Idle": float64(st.Open)})
	if st.Idle < 1 || st.ReuseRatio < 0.8 {
		t.Errorf("keep-alive: Idle = %d, ReuseRatio = %v; want >= 1 and >= 0.8", st.Idle, st.ReuseRatio)
	}

	t.Run("bodies never closed", func(t *testing.T) {
		var bodies []io.Closer
		for range 3 {
			resp, err := c.Get("http://docker/events")
			if err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, resp.Body)
		}
		// each unread body holds a connection of its own
		st := matchTruth(t, p, truth)
		check(t, st, map[string]float64{"InFlight": 3, "Active": 3, "Idle": float64(st.Open - 3)})
		for _, b := range bodies {
			b.Close()
		}
	})
}

func TestConnCloseIdempotent(t *testing.T) {
	srv, _ := newServer(t, hello)
	p := newPool(t)
	tr := &http.Transport{}
	p.Instrument(tr)
	conn, err := tr.DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	check(t, p.Stats(), map[string]float64{"Opened": 1, "Open": 1})
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(); err == nil {
		t.Errorf("second Close returned nil, want the underlying error")
	}
	check(t, p.Stats(), map[string]float64{"Opened": 1, "Closed": 1, "Open": 0})
}

func TestDeprecatedDial(t *testing.T) {
	srv, truth := newServer(t, hello)
	p := newPool(t)
	var dials atomic.Int64
	c := client(t, p, &http.Transport{
		//lint:ignore SA1019 the deprecated field is what this test is about
		Dial: func(network, addr string) (net.Conn, error) {
			dials.Add(1)
			return net.Dial(network, addr)
		},
	})
	get(t, c, srv.URL)
	get(t, c, srv.URL)
	st := matchTruth(t, p, truth)
	if got := dials.Load(); got != int64(st.Opened) || got < 1 {
		t.Errorf("the transport's own Dial ran %d times, want Opened = %d", got, st.Opened)
	}
}

// newH2Server starts a TLS server that speaks HTTP/2 and returns a transport
// configured to trust it and attempt HTTP/2.
func newH2Server(t *testing.T, h http.Handler) (*httptest.Server, *truth, *http.Transport) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	tr := &truth{}
	tr.install(srv.Config, h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	return srv, tr, &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
}

func TestHTTP2(t *testing.T) {
	srv, truth, transport := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			http.Error(w, "want HTTP/2", http.StatusHTTPVersionNotSupported)
			return
		}
		io.WriteString(w, "h2")
	}))
	p := newPool(t)
	c := client(t, p, transport)
	get(t, c, srv.URL) // opens the one connection
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- fetch(c, srv.URL) })
	}
	wg.Wait()
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	check(t, p.Stats(), map[string]float64{
		"Requests": n + 1, "Responses5xx": 0, "Errors": 0, "InFlight": 0,
		"Opened": 1, "Open": 1, "Active": 0, "Idle": 1,
		"Reused": n, "Waiting": 0,
	})
	if got := truth.reused(); got != n {
		t.Errorf("server saw %d reused, want %d", got, n)
	}

	// Many unread bodies share one connection: 5 requests in flight, one
	// active connection, nobody waiting.
	var bodies []io.Closer
	for range 5 {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 2 {
			t.Fatalf("response over %s, want HTTP/2", resp.Proto)
		}
		bodies = append(bodies, resp.Body)
	}
	check(t, p.Stats(), map[string]float64{"InFlight": 5, "Open": 1, "Active": 1, "Idle": 0, "Waiting": 0})
	for _, b := range bodies {
		b.Close()
	}
	check(t, p.Stats(), map[string]float64{"InFlight": 0, "Active": 0, "Idle": 1})
}

// TestDialTLSContextPassthrough: a custom DialTLSContext that returns a
// *tls.Conn is left alone so that HTTP/2 still works; the connection is
// counted as untracked.
func TestDialTLSContextPassthrough(t *testing.T) {
	srv, _, transport := newH2Server(t, hello)
	cfg := transport.TLSClientConfig.Clone()
	cfg.NextProtos = []string{"h2", "http/1.1"}
	transport.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := tls.Dialer{Config: cfg}
		return d.DialContext(ctx, network, addr)
	}
	p := newPool(t)
	c := client(t, p, transport)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("response over %s, want HTTP/2", resp.Proto)
	}
	get(t, c, srv.URL)
	check(t, p.Stats(), map[string]float64{
		"Requests": 2, "Untracked": 1, "Opened": 0, "Open": 0, "Reused": 1, "Waiting": 0,
	})
}

// TestFileBodyThroughReadFrom posts a 4 MiB file through an instrumented transport: the body
// reaches the wrapped connection's ReadFrom (so a TCP connection can send it with sendfile) and
// arrives whole; the connection is still counted and reused.
func TestFileBodyThroughReadFrom(t *testing.T) {
	const size = 4 << 20
	path := filepath.Join(t.TempDir(), "body")
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := io.ReadAll(r.Body)
		if err != nil || len(got) != size || string(got) != string(data) {
			http.Error(w, "body differs", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "ok")
	}))
	p := newPool(t)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: p.Instrument(tr)}
	for range 2 {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, f)
		req.ContentLength = size
		resp, err := c.Do(req)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: the server got another body", resp.StatusCode)
		}
	}
	check(t, p.Stats(), map[string]float64{"Opened": 1, "Open": 1, "Reused": 1})

	// The wrapped connection is an io.ReaderFrom, and ReadFrom on a connection without one
	// (a net.Pipe) copies through Write.
	a, b := net.Pipe()
	defer b.Close()
	wrapped := &conn{Conn: a, src: &source{}}
	defer wrapped.Close()
	var rf io.ReaderFrom = wrapped
	done := make(chan []byte)
	go func() { got, _ := io.ReadAll(b); done <- got }()
	n, err := rf.ReadFrom(io.LimitReader(zeroReader{}, 100_000))
	if err != nil || n != 100_000 {
		t.Fatalf("ReadFrom over a pipe = %d, %v; want 100000, nil", n, err)
	}
	a.Close()
	if got := <-done; len(got) != 100_000 {
		t.Errorf("the peer read %d bytes, want 100000", len(got))
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }
