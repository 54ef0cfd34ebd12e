package watchdog

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

// evidenceClock is a clock whose ticker fires when step is called.
type evidenceClock struct {
	mu  sync.Mutex
	now time.Time
	c   chan time.Time
}

func (m *evidenceClock) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *evidenceClock) NewTicker(time.Duration) Ticker { return m }
func (m *evidenceClock) C() <-chan time.Time            { return m.c }
func (m *evidenceClock) Stop()                          {}

func (m *evidenceClock) step(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	t := m.now
	m.mu.Unlock()
	m.c <- t
}

// TestPoolAlertCarriesConnections: response bodies left open make an HTTP pool open a
// connection per request; the pool's alert carries that pool's figures and the connections by
// peer and state, over a real loopback server. Ticks are driven by an injected clock.
func TestPoolAlertCarriesConnections(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("descriptors are read from /proc")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") }))
	defer srv.Close()
	pool, err := httppool.New("api")
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: pool.Instrument(tr)}
	var bodies []io.Closer
	defer func() {
		for _, b := range bodies {
			b.Close()
		}
	}()

	clk := &evidenceClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), c: make(chan time.Time)}
	c := DefaultConfig()
	c.Window = 30 * time.Second
	c.Warmup = time.Nanosecond // judge from the first sample (zero would mean the default)
	var mu sync.Mutex
	var pa *Alert
	w, err := Start(t.Context(), c, WithClock(clk), WithHTTPPool(pool), OnAlert(func(a Alert) {
		mu.Lock()
		defer mu.Unlock()
		if pa == nil && a.Series == HTTPSeries("api", HTTPOpen) && a.Level >= LevelWarning {
			pa = &a
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	got := func() *Alert {
		mu.Lock()
		defer mu.Unlock()
		return pa
	}
	for i := 0; got() == nil; i++ {
		if i == 300 {
			t.Fatalf("no warning on %s after %d requests with their bodies left open", HTTPSeries("api", HTTPOpen), i)
		}
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, resp.Body) // never read nor closed: the connection stays busy
		clk.step(time.Second)
		for w.Snapshot().Cost.Ticks < uint64(i)+2 { // the tick is done
			time.Sleep(time.Millisecond)
		}
		done := make(chan struct{}) // and the sink has run what the tick queued
		for !w.sink.post(func() { close(done) }) {
			time.Sleep(time.Millisecond)
		}
		<-done
	}
	a := got()
	ev := a.Evidence
	if ev == nil || ev.Kind != EvidenceConnections || ev.AlertID != a.ID {
		t.Fatalf("pool alert %v: evidence %+v, want connection evidence", a, ev)
	}
	if ev.Pool == nil || ev.Pool.Name != "api" || ev.Pool.Open < len(bodies)/2 || ev.Pool.OpenDelta <= 0 {
		t.Errorf("pool figures %+v, want pool api with its %d open connections", ev.Pool, len(bodies))
	}
	peer := srv.Listener.Addr().String()
	var est int
	for _, g := range ev.Connections {
		if g.Inbound {
			t.Errorf("connection evidence holds an inbound connection: %v", g)
		}
		if g.Peer == peer && g.State == "ESTABLISHED" {
			est = g.Count
		}
	}
	if est < len(bodies)/2 {
		t.Errorf("connections %v: want about %d ESTABLISHED to %s", ev.Connections, len(bodies), peer)
	}
	if ev.Diagnosis.Cause != attribution.CauseUnclosedResponseBody {
		t.Errorf("diagnosis %v, want unclosed response bodies", ev.Diagnosis)
	}
}
