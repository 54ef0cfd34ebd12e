package otelexporter_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/leakwatch/leakwatch/otelexporter"
	"github.com/leakwatch/leakwatch/watchdog"
	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// heldPool returns a pool named "docker" with one active connection (a response whose body is
// unread) and one idle one, on a loopback server; cleanup releases both.
func heldPool(t *testing.T) *httppool.Pool {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-release
			return
		}
		io.WriteString(w, "ok")
	}))
	pool, err := httppool.New("docker")
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	client := &http.Client{Transport: pool.Instrument(tr)}
	held, err := client.Get(srv.URL + "/hold")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(srv.URL + "/ok") // a second connection: the first is busy
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	t.Cleanup(func() {
		close(release)
		io.Copy(io.Discard, held.Body)
		held.Body.Close()
		tr.CloseIdleConnections()
		srv.Close()
	})
	if s := pool.Stats(); s.Active != 1 || s.Idle != 1 {
		t.Fatalf("pool stats %+v, want 1 active and 1 idle connection", s)
	}
	return pool
}

// startWatchdog starts a watchdog whose first tick, taken at Start, is its only one during
// the test (Interval one hour), so that every reading of the test is of that tick.
func startWatchdog(t *testing.T, opts ...watchdog.Option) *watchdog.Watchdog {
	t.Helper()
	cfg := watchdog.DefaultConfig()
	cfg.Interval, cfg.Window, cfg.Warmup = time.Hour, 3*time.Hour, time.Nanosecond // no warm-up (zero means the default)
	cfg.Attribution.Disabled = true
	w, err := watchdog.Start(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop() })
	deadline := time.Now().Add(10 * time.Second)
	for w.Snapshot().Cost.Ticks == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no tick within 10s of Start")
		}
		time.Sleep(time.Millisecond)
	}
	return w
}

// collect reads every metric through a ManualReader.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelexporter.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, otelexporter.ScopeName)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// point is one data point: its attributes and value.
type point struct {
	attrs attribute.Set
	value float64
}

// points returns the data points of m, whatever its aggregation.
func points(t *testing.T, m metricdata.Metrics) []point {
	t.Helper()
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		return pointsOf(d.DataPoints)
	case metricdata.Sum[float64]:
		return pointsOf(d.DataPoints)
	case metricdata.Gauge[int64]:
		return pointsOf(d.DataPoints)
	case metricdata.Gauge[float64]:
		return pointsOf(d.DataPoints)
	}
	t.Fatalf("%s: data %T", m.Name, m.Data)
	return nil
}

func pointsOf[N int64 | float64](dps []metricdata.DataPoint[N]) []point {
	out := make([]point, len(dps))
	for i, p := range dps {
		out[i] = point{p.Attributes, float64(p.Value)}
	}
	return out
}

// only returns the value of the data point with exactly attrs.
func only(t *testing.T, ms map[string]metricdata.Metrics, name string, attrs ...attribute.KeyValue) float64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		t.Fatalf("%s not collected", name)
	}
	want := attribute.NewSet(attrs...)
	for _, p := range points(t, m) {
		if p.attrs.Equals(&want) {
			return p.value
		}
	}
	t.Fatalf("%s: no data point with attributes %v", name, want.Encoded(attribute.DefaultEncoder()))
	return 0
}

func seriesValue(t *testing.T, s watchdog.Snapshot, name string) watchdog.SeriesSnapshot {
	t.Helper()
	for _, ss := range s.Series {
		if ss.Name == name {
			return ss
		}
	}
	t.Fatalf("snapshot lacks %s", name)
	return watchdog.SeriesSnapshot{}
}

// TestSemanticConventionInstruments reads, through the SDK, the goroutine count, the FD count
// and the HTTP pool's open connections by state, and compares them with the watchdog's
// snapshot of the same tick.
func TestSemanticConventionInstruments(t *testing.T) {
	pool := heldPool(t)
	w := startWatchdog(t, watchdog.WithHTTPPool(pool))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	reg, err := otelexporter.Register(w, mp)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()

	ms := collect(t, reader)
	snap := w.Snapshot()
	if snap.Cost.Ticks != 1 {
		t.Fatalf("%d ticks, want the one at Start", snap.Cost.Ticks)
	}
	for _, c := range []struct {
		metric string
		attrs  []attribute.KeyValue
		series string
	}{
		{"go.goroutine.count", nil, watchdog.SeriesGoroutines},
		{"process.unix.file_descriptor.count", nil, watchdog.SeriesFDs},
		{"http.client.open_connections", []attribute.KeyValue{otelexporter.PoolKey.String("docker"), otelexporter.ConnectionStateKey.String("active")}, watchdog.HTTPSeries("docker", watchdog.HTTPActive)},
		{"http.client.open_connections", []attribute.KeyValue{otelexporter.PoolKey.String("docker"), otelexporter.ConnectionStateKey.String("idle")}, watchdog.HTTPSeries("docker", watchdog.HTTPIdle)},
		{"leakwatch.http.client.requests", []attribute.KeyValue{otelexporter.PoolKey.String("docker")}, watchdog.HTTPSeries("docker", watchdog.HTTPRequests)},
	} {
		ss := seriesValue(t, snap, c.series)
		if ss.Unsupported {
			continue // fds off Linux
		}
		if !ss.Valid {
			t.Fatalf("%s unread at the first tick: %+v", c.series, ss)
		}
		if got := only(t, ms, c.metric, c.attrs...); got != ss.Value {
			t.Errorf("%s %v = %v, want the snapshot's %s %v", c.metric, c.attrs, got, c.series, ss.Value)
		}
	}
	// The values held by the pool at the tick: 1 active, 1 idle, 2 requests.
	if a, i := seriesValue(t, snap, watchdog.HTTPSeries("docker", watchdog.HTTPActive)), seriesValue(t, snap, watchdog.HTTPSeries("docker", watchdog.HTTPIdle)); a.Value != 1 || i.Value != 1 {
		t.Errorf("snapshot active %v idle %v, want 1 and 1", a.Value, i.Value)
	}
	if m := ms["go.goroutine.count"]; m.Unit != "{goroutine}" {
		t.Errorf("go.goroutine.count unit %q", m.Unit)
	}
	if d, ok := ms["go.goroutine.count"].Data.(metricdata.Sum[int64]); !ok || d.IsMonotonic {
		t.Errorf("go.goroutine.count: %T, want a non-monotonic Sum[int64] (UpDownCounter)", ms["go.goroutine.count"].Data)
	}
	if d, ok := ms["leakwatch.http.client.requests"].Data.(metricdata.Sum[int64]); !ok || !d.IsMonotonic {
		t.Errorf("leakwatch.http.client.requests: %T, want a monotonic Sum[int64] (Counter)", ms["leakwatch.http.client.requests"].Data)
	}
	// open is the sum of the two states: no instrument of its own, its level is exported.
	for name := range ms {
		if name == "leakwatch.http.client.open" {
			t.Errorf("%s exported beside http.client.open_connections", name)
		}
	}

	// Levels and alert counts, per series and per level.
	for _, ss := range snap.Series {
		if got := only(t, ms, "leakwatch.level", otelexporter.SeriesKey.String(ss.Name)); got != float64(ss.Level) {
			t.Errorf("leakwatch.level{%s} = %v, want %d", ss.Name, got, ss.Level)
		}
	}
	for l, n := range snap.AlertsTotal {
		if got := only(t, ms, "leakwatch.alerts", otelexporter.LevelKey.String(watchdog.Level(l).String())); got != float64(n) {
			t.Errorf("leakwatch.alerts{%s} = %v, want %d", watchdog.Level(l), got, n)
		}
	}
	if got := only(t, ms, "leakwatch.watchdog.ticks"); got != 1 {
		t.Errorf("leakwatch.watchdog.ticks = %v, want 1", got)
	}
	if got := only(t, ms, "leakwatch.watchdog.running"); got != 1 {
		t.Errorf("leakwatch.watchdog.running = %v, want 1", got)
	}

	// Unregistered, the callback observes nothing more.
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	if ms := collect(t, reader); len(ms) != 0 {
		t.Errorf("after Unregister: %d metrics collected, want none", len(ms))
	}
}

// TestLevelsAndAlerts leaks a gauge at 60/min (critical at 50/min) in a synctest bubble and
// reads the level, growth rate and alert counts through the SDK against the snapshot.
func TestLevelsAndAlerts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var streams atomic.Int64
		cfg := watchdog.DefaultConfig()
		cfg.Interval, cfg.Window, cfg.Warmup = time.Second, 10*time.Second, time.Nanosecond // no warm-up (zero means the default)
		cfg.Jitter = watchdog.NoJitter
		cfg.Attribution.Disabled = true
		cfg.Rules["open_streams"] = watchdog.Rule{NoticePerMin: 10, WarningPerMin: 20, CriticalPerMin: 50}
		w, err := watchdog.Start(t.Context(), cfg,
			watchdog.WithGauge("open_streams", func() float64 { return float64(streams.Load()) }))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		for range 40 {
			streams.Add(1)
			time.Sleep(time.Second)
		}
		synctest.Wait() // the tick due at this instant, and its gauge read, are done
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		if _, err := otelexporter.Register(w, mp); err != nil {
			t.Fatal(err)
		}
		ms := collect(t, reader)
		s := w.Snapshot() // nothing runs in the bubble but this goroutine: the same tick
		ss := seriesValue(t, s, "open_streams")
		if ss.Level != watchdog.LevelCritical || !ss.RateReady {
			t.Fatalf("open_streams = %+v, want critical with a rate", ss)
		}
		series := otelexporter.SeriesKey.String("open_streams")
		if got := only(t, ms, "leakwatch.level", series); got != 3 {
			t.Errorf("leakwatch.level{open_streams} = %v, want 3", got)
		}
		if got := only(t, ms, "leakwatch.growth_rate", series); got != ss.RatePerMin {
			t.Errorf("leakwatch.growth_rate{open_streams} = %v, want %v", got, ss.RatePerMin)
		}
		if got := only(t, ms, "leakwatch.series.value", series); got != ss.Value {
			t.Errorf("leakwatch.series.value{open_streams} = %v, want the snapshot's %v", got, ss.Value)
		}
		var raised float64
		for l, n := range s.AlertsTotal {
			got := only(t, ms, "leakwatch.alerts", otelexporter.LevelKey.String(watchdog.Level(l).String()))
			if got != float64(n) {
				t.Errorf("leakwatch.alerts{%s} = %v, want %d", watchdog.Level(l), got, n)
			}
			if watchdog.Level(l) == watchdog.LevelCritical {
				raised = got
			}
		}
		if raised < 1 {
			t.Errorf("leakwatch.alerts{critical} = %v, want at least 1", raised)
		}
	})
}

// TestRegisterNil: Register without a watchdog or a provider is an error, not a panic.
func TestRegisterNil(t *testing.T) {
	if _, err := otelexporter.Register(nil, sdkmetric.NewMeterProvider()); err == nil {
		t.Error("Register(nil, mp): no error")
	}
}

// refusingProvider's meter refuses every Int64ObservableGauge.
type refusingProvider struct{ noop.MeterProvider }

func (refusingProvider) Meter(string, ...metric.MeterOption) metric.Meter { return refusingMeter{} }

type refusingMeter struct{ noop.Meter }

func (refusingMeter) Int64ObservableGauge(string, ...metric.Int64ObservableGaugeOption) (metric.Int64ObservableGauge, error) {
	return noop.Int64ObservableGauge{}, errors.New("refused")
}

// TestRegisterInstrumentError: an instrument the meter refuses makes Register fail with an
// error naming every refused instrument, and nothing is registered.
func TestRegisterInstrumentError(t *testing.T) {
	w := startWatchdog(t)
	reg, err := otelexporter.Register(w, refusingProvider{})
	if err == nil || reg != nil {
		t.Fatalf("Register = %v, %v; want no registration and an error", reg, err)
	}
	for _, name := range []string{"leakwatch.level", "leakwatch.watchdog.stalled", "leakwatch.watchdog.running"} {
		if want := "otelexporter: instrument " + name + ": refused"; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "go.goroutine.count") {
		t.Errorf("error %q names go.goroutine.count, an UpDownCounter the meter made", err)
	}
}
