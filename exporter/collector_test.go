package exporter

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"

	"github.com/leakwatch/leakwatch/watchdog"
	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

// startWatchdog starts a watchdog (1s interval, 10s window, no warm-up, no attribution) with an
// HTTP pool named "docker" and a gauge "open_streams" returning streams, inside a synctest
// bubble, and stops it at the end of the test.
func startWatchdog(t *testing.T, streams *atomic.Int64) *watchdog.Watchdog {
	t.Helper()
	pool, err := httppool.New("docker")
	if err != nil {
		t.Fatal(err)
	}
	cfg := watchdog.DefaultConfig()
	cfg.Interval, cfg.Window, cfg.Warmup = time.Second, 10*time.Second, time.Nanosecond
	cfg.Jitter = watchdog.NoJitter // the expositions compared below hold the tick times
	cfg.Attribution.Disabled = true
	cfg.Rules["open_streams"] = watchdog.Rule{NoticePerMin: 10, WarningPerMin: 20, CriticalPerMin: 50}
	w, err := watchdog.Start(t.Context(), cfg, watchdog.WithHTTPPool(pool),
		watchdog.WithGauge("open_streams", func() float64 { return float64(streams.Load()) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Stop(); err != nil {
			t.Errorf("Stop() = %v", err)
		}
	})
	return w
}

// families gathers g and returns its families by name.
func families(t *testing.T, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather() = %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// TestSeedQueries registers the collector beside client_golang's process and Go collectors on a
// pedantic registry (which fails Gather on any duplicate or inconsistent metric) and checks
// that every metric the seed's guide greps for is there, and the whole docker pool.
func TestSeedQueries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var streams atomic.Int64
		w := startWatchdog(t, &streams)
		time.Sleep(3 * time.Second)
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(New(w, Options{Namespace: "log_capturer"}),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
			collectors.NewGoCollector())
		got := families(t, reg)
		for _, name := range []string{
			"log_capturer_goroutines",
			"process_open_fds",
			"log_capturer_docker_http_idle_connections",
			"log_capturer_docker_http_requests_total",
			"log_capturer_docker_http_errors_total",
			"log_capturer_docker_http_responses_5xx_total",
			"log_capturer_docker_http_open_connections",
			"log_capturer_docker_http_active_connections",
			"log_capturer_docker_http_reuse_ratio",
			"log_capturer_docker_http_waiting_requests",
			"log_capturer_open_fds",
			"log_capturer_series_value",
		} {
			mf, ok := got[name]
			if !ok {
				t.Errorf("no metric %s", name)
				continue
			}
			if n := len(mf.GetMetric()); n != 1 {
				t.Errorf("%s has %d series, want 1", name, n)
			}
		}
		if v := got["log_capturer_goroutines"].GetMetric()[0].GetGauge().GetValue(); v < 1 {
			t.Errorf("log_capturer_goroutines = %v, want >= 1", v)
		}
		for name := range got {
			if strings.HasPrefix(name, "log_capturer_process_") {
				t.Errorf("%s: the exporter must leave process_* to the process collector", name)
			}
		}
	})
}

// TestCollectAndCompare checks the deterministic part of a scrape: inside a synctest bubble
// time starts at 2000-01-01T00:00:00Z and ticks cost no time.
func TestCollectAndCompare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var streams atomic.Int64
		streams.Store(7)
		w := startWatchdog(t, &streams)
		time.Sleep(2500 * time.Millisecond)
		c := New(w, Options{Namespace: "log_capturer", ConstLabels: prometheus.Labels{"service": "a"}})
		const want = `
# HELP log_capturer_docker_http_requests_total Requests sent through the HTTP pool.
# TYPE log_capturer_docker_http_requests_total counter
log_capturer_docker_http_requests_total{service="a"} 0
# HELP log_capturer_docker_http_idle_connections Idle connections of the HTTP pool (open - active).
# TYPE log_capturer_docker_http_idle_connections gauge
log_capturer_docker_http_idle_connections{service="a"} 0
# HELP log_capturer_series_value Value of a series sampled from a function registered with watchdog.WithGauge, by series name.
# TYPE log_capturer_series_value gauge
log_capturer_series_value{series="open_streams",service="a"} 7
# HELP log_capturer_watchdog_alerts_total Level changes since the watchdog started, by the level reached (ok counts resolutions).
# TYPE log_capturer_watchdog_alerts_total counter
log_capturer_watchdog_alerts_total{level="critical",service="a"} 0
log_capturer_watchdog_alerts_total{level="notice",service="a"} 0
log_capturer_watchdog_alerts_total{level="ok",service="a"} 0
log_capturer_watchdog_alerts_total{level="warning",service="a"} 0
# HELP log_capturer_watchdog_interval_seconds Sampling interval of the watchdog.
# TYPE log_capturer_watchdog_interval_seconds gauge
log_capturer_watchdog_interval_seconds{service="a"} 1
# HELP log_capturer_watchdog_last_tick_timestamp_seconds Unix time of the watchdog's last tick (its heartbeat); absent before the first.
# TYPE log_capturer_watchdog_last_tick_timestamp_seconds gauge
log_capturer_watchdog_last_tick_timestamp_seconds{service="a"} 9.46684802e+08
# HELP log_capturer_watchdog_running 1 while the watchdog runs, 0 once it has stopped.
# TYPE log_capturer_watchdog_running gauge
log_capturer_watchdog_running{service="a"} 1
# HELP log_capturer_watchdog_stalled 1 when the watchdog runs but no tick completed within its StallAfter, else 0.
# TYPE log_capturer_watchdog_stalled gauge
log_capturer_watchdog_stalled{service="a"} 0
# HELP log_capturer_watchdog_start_time_seconds Unix time at which the watchdog started.
# TYPE log_capturer_watchdog_start_time_seconds gauge
log_capturer_watchdog_start_time_seconds{service="a"} 9.466848e+08
# HELP log_capturer_watchdog_smoke_checkpoints Checkpoints of the current or last smoke run so far: taken, or missed (the process was down or the watchdog stalled).
# TYPE log_capturer_watchdog_smoke_checkpoints gauge
log_capturer_watchdog_smoke_checkpoints{result="missed",service="a"} 0
log_capturer_watchdog_smoke_checkpoints{result="taken",service="a"} 0
# HELP log_capturer_watchdog_smoke_restarts Process restarts the current or last smoke run survived (with a state file).
# TYPE log_capturer_watchdog_smoke_restarts gauge
log_capturer_watchdog_smoke_restarts{service="a"} 0
# HELP log_capturer_watchdog_smoke_status 1 for the status of the current or last smoke run (none, running, passed, failed), 0 for the others.
# TYPE log_capturer_watchdog_smoke_status gauge
log_capturer_watchdog_smoke_status{service="a",status="failed"} 0
log_capturer_watchdog_smoke_status{service="a",status="none"} 1
log_capturer_watchdog_smoke_status{service="a",status="passed"} 0
log_capturer_watchdog_smoke_status{service="a",status="running"} 0
# HELP log_capturer_watchdog_ticks_total Ticks (samples of every series) taken by the watchdog.
# TYPE log_capturer_watchdog_ticks_total counter
log_capturer_watchdog_ticks_total{service="a"} 3
# HELP log_capturer_watchdog_window_seconds Window over which the watchdog estimates growth.
# TYPE log_capturer_watchdog_window_seconds gauge
log_capturer_watchdog_window_seconds{service="a"} 10
`
		names := []string{
			"log_capturer_docker_http_requests_total", "log_capturer_docker_http_idle_connections",
			"log_capturer_series_value", "log_capturer_watchdog_alerts_total", "log_capturer_watchdog_interval_seconds",
			"log_capturer_watchdog_last_tick_timestamp_seconds", "log_capturer_watchdog_running",
			"log_capturer_watchdog_stalled", "log_capturer_watchdog_start_time_seconds",
			"log_capturer_watchdog_ticks_total", "log_capturer_watchdog_window_seconds",
			"log_capturer_watchdog_smoke_status", "log_capturer_watchdog_smoke_checkpoints",
			"log_capturer_watchdog_smoke_restarts",
		}
		if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
			t.Error(err)
		}

		// After Stop the collector still works and says the watchdog is not running.
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		const stopped = `
# HELP log_capturer_watchdog_running 1 while the watchdog runs, 0 once it has stopped.
# TYPE log_capturer_watchdog_running gauge
log_capturer_watchdog_running{service="a"} 0
`
		if err := testutil.CollectAndCompare(c, strings.NewReader(stopped), "log_capturer_watchdog_running"); err != nil {
			t.Error(err)
		}
	})
}

// TestLeakShowsInVerdicts leaks a gauge at 60/min and checks the exported level, growth rate and
// alert counters against the watchdog's own snapshot.
func TestLeakShowsInVerdicts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var streams atomic.Int64
		w := startWatchdog(t, &streams)
		for range 40 {
			streams.Add(1) // 1/s = 60/min: critical at 50/min
			time.Sleep(time.Second)
		}
		synctest.Wait() // the tick due at this instant is done: the snapshot and the scrape agree
		c := New(w, Options{})
		s := w.Snapshot()
		ss, _ := s.Lookup("open_streams")
		if ss.Level != watchdog.LevelCritical {
			t.Fatalf("watchdog level of open_streams = %v, want critical (snapshot %+v)", ss.Level, ss)
		}
		if got := testutil.ToFloat64(onlyLabel(t, c, "leakwatch_watchdog_level", "series", "open_streams")); got != 3 {
			t.Errorf("leakwatch_watchdog_level{series=open_streams} = %v, want 3", got)
		}
		if got := testutil.ToFloat64(onlyLabel(t, c, "leakwatch_watchdog_growth_rate_per_minute", "series", "open_streams")); got < 50 || got > 70 {
			t.Errorf("growth rate = %v/min, want about 60", got)
		}
		if got := testutil.ToFloat64(onlyLabel(t, c, "leakwatch_watchdog_alerts_total", "level", "critical")); got != float64(s.AlertsTotal[watchdog.LevelCritical]) || got < 1 {
			t.Errorf("alerts_total{level=critical} = %v, want %d (>= 1)", got, s.AlertsTotal[watchdog.LevelCritical])
		}
	})
}

// onlyLabel returns a collector that yields only the metrics of family name whose label has
// the given value, for testutil.ToFloat64.
func onlyLabel(t *testing.T, c prometheus.Collector, name, label, value string) prometheus.Collector {
	t.Helper()
	return filtered{c, func(m prometheus.Metric) bool {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Desc().String(), `fqName: "`+name+`"`) {
			return false
		}
		for _, lp := range pb.GetLabel() {
			if lp.GetName() == label && lp.GetValue() == value {
				return true
			}
		}
		return false
	}}
}

type filtered struct {
	c    prometheus.Collector
	keep func(prometheus.Metric) bool
}

func (f filtered) Describe(ch chan<- *prometheus.Desc) { f.c.Describe(ch) }

func (f filtered) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() { f.c.Collect(all); close(all) }()
	for m := range all {
		if f.keep(m) {
			ch <- m
		}
	}
}

func TestLint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var streams atomic.Int64
		w := startWatchdog(t, &streams)
		for range 15 {
			streams.Add(1)
			time.Sleep(time.Second)
		}
		for _, ns := range []string{"", "log_capturer"} {
			problems, err := testutil.CollectAndLint(New(w, Options{Namespace: ns}))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("namespace %q: %s: %s", ns, p.Metric, p.Text)
			}
		}
	})
}

func TestBadNamespaceFailsRegistration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var streams atomic.Int64
		w := startWatchdog(t, &streams)
		reg := prometheus.NewPedanticRegistry()
		if err := reg.Register(New(w, Options{Namespace: "log-capturer"})); err == nil {
			t.Error("Register with namespace log-capturer = nil, want an error")
		}
	})
}

// TestPoolSeries: the collector takes the pools from w.HTTPPools(), not from the series names:
// pools with underscores and suffix-like names export as pools, and user gauges named exactly
// like a complete pool's series stay user gauges. Every suffix the watchdog has, the exporter
// knows.
func TestPoolSeries(t *testing.T) {
	synctest.Test(t, testPoolSeries)
}

func testPoolSeries(t *testing.T) {
	var opts []watchdog.Option
	for _, name := range []string{"a_reuse", "b"} {
		p, err := httppool.New(name)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, watchdog.WithHTTPPool(p))
	}
	for _, h := range httpSuffixes {
		opts = append(opts, watchdog.WithGauge(watchdog.HTTPSeries("fake", h.suffix), func() float64 { return 4 }))
	}
	cfg := watchdog.DefaultConfig()
	cfg.Interval, cfg.Window, cfg.Warmup = time.Second, 10*time.Second, 0
	cfg.Attribution.Disabled = true
	w, err := watchdog.Start(t.Context(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	time.Sleep(3 * time.Second) // fake time: a few ticks, gauges read
	for _, p := range w.HTTPPools() {
		for _, ps := range p.Series {
			if !slices.ContainsFunc(httpSuffixes, func(h httpSuffix) bool { return h.suffix == ps.Suffix }) {
				t.Errorf("pool %s: suffix %q unknown to the exporter", p.Pool, ps.Suffix)
			}
		}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(w, Options{Namespace: "ns"}))
	fams := families(t, reg)
	for _, pool := range []string{"a_reuse", "b"} {
		for _, h := range httpSuffixes {
			if _, ok := fams["ns_"+pool+"_"+h.name]; !ok {
				t.Errorf("pool %s: no ns_%s_%s", pool, pool, h.name)
			}
		}
	}
	for name := range fams {
		if strings.HasPrefix(name, "ns_fake_") {
			t.Errorf("gauges named like a pool's series exported as a pool: %s", name)
		}
	}
	gauges := map[string]bool{}
	for _, m := range fams["ns_series_value"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "series" && m.GetGauge().GetValue() == 4 {
				gauges[l.GetValue()] = true
			}
		}
	}
	for _, h := range httpSuffixes {
		if n := watchdog.HTTPSeries("fake", h.suffix); !gauges[n] {
			t.Errorf("ns_series_value{series=%q} missing or not 4 (user gauges: %v)", n, gauges)
		}
	}
}

// TestSmokeStatus follows a short smoke run through <ns>_watchdog_smoke_status.
func TestSmokeStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var streams atomic.Int64
		w := startWatchdog(t, &streams)
		c := New(w, Options{})
		status := func() string {
			t.Helper()
			var on []string
			for _, st := range smokeStatuses {
				if testutil.ToFloat64(onlyLabel(t, c, "leakwatch_watchdog_smoke_status", "status", string(st))) == 1 {
					on = append(on, string(st))
				}
			}
			if len(on) != 1 {
				t.Fatalf("smoke statuses at 1: %v, want exactly one", on)
			}
			return on[0]
		}
		if got := status(); got != "none" {
			t.Errorf("before a run: status %q, want none", got)
		}
		sc := watchdog.DefaultSmokeConfig()
		sc.Duration, sc.Checkpoint = 4*time.Second, 2*time.Second
		if err := w.StartSmoke(sc); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if got := status(); got != "running" {
			t.Errorf("during the run: status %q, want running", got)
		}
		time.Sleep(5 * time.Second)
		want := string(w.SmokeReport().Status)
		if got := status(); got != want || (got != "passed" && got != "failed") {
			t.Errorf("after the run: status %q, want %q (passed or failed)", got, want)
		}
		if got := testutil.ToFloat64(filtered{c, func(m prometheus.Metric) bool {
			return strings.Contains(m.Desc().String(), `"leakwatch_watchdog_smoke_stalled"`)
		}}); got != 0 {
			t.Errorf("smoke_stalled = %v, want 0", got)
		}
		// A 4 s run with 2 s checkpoints: two taken, none missed, no restart.
		for result, want := range map[string]float64{"taken": 2, "missed": 0} {
			if got := testutil.ToFloat64(onlyLabel(t, c, "leakwatch_watchdog_smoke_checkpoints", "result", result)); got != want {
				t.Errorf("smoke_checkpoints{result=%q} = %v, want %v", result, got, want)
			}
		}
		if got := testutil.ToFloat64(filtered{c, func(m prometheus.Metric) bool {
			return strings.Contains(m.Desc().String(), `"leakwatch_watchdog_smoke_restarts"`)
		}}); got != 0 {
			t.Errorf("smoke_restarts = %v, want 0", got)
		}
	})
}

// panicClock is a Clock whose Now panics while panics is above zero, so that the watchdog's
// ticks panic and are recovered.
type panicClock struct{ panics atomic.Int32 }

func (c *panicClock) Now() time.Time {
	if c.panics.Add(-1) >= 0 {
		panic("hostile clock")
	}
	return time.Now()
}

func (c *panicClock) NewTicker(d time.Duration) watchdog.Ticker { return realTicker{time.NewTicker(d)} }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }

// TestTickPanicsExported: recovered tick panics, which a fleet alerts on, are exported as a
// counter equal to the snapshot's.
func TestTickPanicsExported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := &panicClock{}
		cfg := watchdog.DefaultConfig()
		cfg.Interval, cfg.Window, cfg.Warmup = time.Second, 10*time.Second, time.Nanosecond
		cfg.Attribution.Disabled = true
		w, err := watchdog.Start(t.Context(), cfg, watchdog.WithClock(clk), watchdog.WithLogger(zap.NewNop()))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		clk.panics.Store(2) // the next two ticks panic
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if got := w.Snapshot().TickPanics; got != 2 {
			t.Fatalf("Snapshot().TickPanics = %d, want 2", got)
		}
		c := New(w, Options{Namespace: "lw"})
		const want = `
# HELP lw_watchdog_tick_panics_total Recovered panics of the sampling tick (Snapshot.TickPanics); each lost that tick's sample.
# TYPE lw_watchdog_tick_panics_total counter
lw_watchdog_tick_panics_total 2
# HELP lw_watchdog_log_panics_total Log records lost to a logger core or slog handler that panicked (Snapshot.LogPanics).
# TYPE lw_watchdog_log_panics_total counter
lw_watchdog_log_panics_total 0
`
		if err := testutil.CollectAndCompare(c, strings.NewReader(want), "lw_watchdog_tick_panics_total", "lw_watchdog_log_panics_total"); err != nil {
			t.Error(err)
		}
	})
}
