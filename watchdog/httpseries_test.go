package watchdog

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

func TestHTTPPoolSeries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	pool, err := httppool.New("docker")
	if err != nil {
		t.Fatal(err)
	}
	c := fastConfig()
	c.Interval = time.Hour // ticks are driven by the test
	c.Window = 3 * time.Hour
	w, err := Start(context.Background(), c, WithHTTPPool(pool))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for w.Snapshot().Cost.Ticks == 0 { // the sampling goroutine's first tick; then it sleeps an hour
		runtime.Gosched()
	}
	// The client is built after Start: the pool is read at every tick all the same.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: pool.Instrument(tr)}
	const n = 10
	for range n {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	w.tick()
	s := w.Snapshot()
	for _, c := range []struct {
		suffix string
		want   float64
	}{{HTTPRequests, n}, {HTTPErrors, 0}, {HTTPOpen, 1}, {HTTPActive, 0}, {HTTPIdle, 1}, {HTTPReuseRatio, 0.9}, {HTTPWaiting, 0}} {
		if got := series(t, s, HTTPSeries("docker", c.suffix)); !got.Valid || got.Value != c.want {
			t.Errorf("%s = %+v, want %v", HTTPSeries("docker", c.suffix), got, c.want)
		}
	}
	// Rules for a pool's series are accepted; a second pool with the same name is not.
	c.Rules[HTTPSeries("docker", HTTPOpen)] = Rule{WarningPerMin: 1}
	if _, err := Start(context.Background(), c, WithHTTPPool(pool), WithHTTPPool(pool)); err == nil {
		t.Error("Start with two pools named docker: no error")
	}
}

// TestHTTPPools: the pools come back as data in the order given, each series named as in the
// snapshot; a gauge whose name looks like a pool's series is not a pool.
func TestHTTPPools(t *testing.T) {
	a, err := httppool.New("docker")
	if err != nil {
		t.Fatal(err)
	}
	b, err := httppool.New("registry_v2")
	if err != nil {
		t.Fatal(err)
	}
	c := fastConfig()
	c.Interval = time.Hour
	c.Window = 3 * time.Hour
	w, err := Start(context.Background(), c, WithHTTPPool(a), WithHTTPPool(b),
		WithGauge("http_fake_requests", func() float64 { return 1 }))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	pools := w.HTTPPools()
	if len(pools) != 2 || pools[0].Pool != "docker" || pools[1].Pool != "registry_v2" {
		t.Fatalf("HTTPPools() = %+v, want docker then registry_v2", pools)
	}
	names := map[string]bool{}
	for _, n := range w.SeriesNames() {
		names[n] = true
	}
	want := []string{HTTPRequests, HTTPErrors, HTTPResponses5xx, HTTPOpen, HTTPActive, HTTPIdle, HTTPReuseRatio, HTTPWaiting}
	for _, p := range pools {
		if len(p.Series) != len(want) {
			t.Fatalf("pool %s: %d series, want %d", p.Pool, len(p.Series), len(want))
		}
		for i, s := range p.Series {
			if s.Suffix != want[i] || s.Name != HTTPSeries(p.Pool, want[i]) || !names[s.Name] {
				t.Errorf("pool %s series %d = %+v, want suffix %s named %s, in SeriesNames", p.Pool, i, s, want[i], HTTPSeries(p.Pool, want[i]))
			}
		}
	}
	pools[0].Series[0].Name = "changed"
	if got := w.HTTPPools()[0].Series[0].Name; got != HTTPSeries("docker", HTTPRequests) {
		t.Errorf("HTTPPools shares its slices with the caller: %q", got)
	}
}
