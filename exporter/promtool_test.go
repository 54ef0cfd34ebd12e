package exporter

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/leakwatch/leakwatch/watchdog"
	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

// waitTicks waits (bounded, in 1 ms steps) until w has taken n ticks.
func waitTicks(t *testing.T, w *watchdog.Watchdog, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for w.Snapshot().Cost.Ticks < n {
		if time.Now().After(deadline) {
			t.Fatalf("watchdog took %d ticks in 10s, want %d", w.Snapshot().Cost.Ticks, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPromtoolCheckMetrics scrapes the exporter beside the process and Go collectors, as a
// service mounts them, and runs promtool check metrics on the text.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool(t)
	pool, err := httppool.New("docker")
	if err != nil {
		t.Fatal(err)
	}
	cfg := watchdog.DefaultConfig()
	cfg.Interval, cfg.Window, cfg.Warmup = 10*time.Millisecond, time.Second, time.Nanosecond
	cfg.Attribution.Disabled = true
	w, err := watchdog.Start(t.Context(), cfg, watchdog.WithHTTPPool(pool),
		watchdog.WithGauge("open_streams", func() float64 { return 3 }))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	waitTicks(t, w, 30)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(w, Options{Namespace: "log_capturer"}),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	runPromtool(t, t.TempDir(), rec.Body.Bytes(), "check", "metrics")
}
