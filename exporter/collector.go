package exporter

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leakwatch/leakwatch/watchdog"
)

// DefaultNamespace is the namespace used when [Options.Namespace] is empty.
const DefaultNamespace = "leakwatch"

// Options configures [New]. The zero value is ready to use: namespace [DefaultNamespace] and
// no constant labels.
type Options struct {
	// Namespace prefixes every metric name: "log_capturer" gives log_capturer_goroutines and
	// log_capturer_docker_http_idle_connections, as in the seed's queries. Empty means
	// [DefaultNamespace]. It must match [a-zA-Z_][a-zA-Z0-9_]*; any other makes every desc
	// invalid, so that Register fails with an error naming it (and Collect sends nothing).
	Namespace string
	// ConstLabels are added to every metric, as prometheus.Opts.ConstLabels. Nil means none.
	ConstLabels prometheus.Labels
}

func (o Options) namespace() string {
	if o.Namespace == "" {
		return DefaultNamespace
	}
	return o.Namespace
}

// kind says how one watchdog series is exported as a raw value.
type kind uint8

const (
	kindGauge   kind = iota // its own gauge
	kindCounter             // its own counter
	kindUser                // <ns>_series_value{series=...}
)

// builtin maps the watchdog's built-in series to their metric names (after the namespace).
// process_open_fds and process_max_fds are left to client_golang's process collector: the
// watchdog's own figures are <ns>_open_fds and <ns>_max_fds, so the two never collide.
var builtin = map[string]struct {
	name string
	kind kind
	help string
}{
	watchdog.SeriesGoroutines:        {"goroutines", kindGauge, "Goroutines of the program (runtime.NumGoroutine), as sampled by the watchdog."},
	watchdog.SeriesGoroutinesCreated: {"goroutines_created_total", kindCounter, "Goroutines created since the program started (/sched/goroutines-created:goroutines)."},
	watchdog.SeriesThreads:           {"threads", kindGauge, "Live OS threads (/sched/threads/total:threads)."},
	watchdog.SeriesHeapBytes:         {"heap_bytes", kindGauge, "Bytes of live and not yet swept heap objects (/memory/classes/heap/objects:bytes)."},
	watchdog.SeriesHeapLive:          {"heap_live_bytes", kindGauge, "Bytes of heap the last garbage collection marked live (/gc/heap/live:bytes)."},
	watchdog.SeriesRSSBytes:          {"rss_bytes", kindGauge, "Resident set size of the process in bytes (Linux)."},
	watchdog.SeriesFDs:               {"open_fds", kindGauge, "Open file descriptors, as counted by the watchdog (Linux)."},
	watchdog.SeriesFDLimit:           {"max_fds", kindGauge, "Soft RLIMIT_NOFILE, as read by the watchdog (Linux)."},
}

// httpSuffix is the metric of one HTTP pool series suffix.
type httpSuffix struct {
	suffix, name string
	kind         kind
	help         string
}

// httpSuffixes maps an HTTP pool series suffix to its metric name after <ns>_<pool>_.
var httpSuffixes = []httpSuffix{
	{watchdog.HTTPRequests, "http_requests_total", kindCounter, "Requests sent through the HTTP pool."},
	{watchdog.HTTPErrors, "http_errors_total", kindCounter, "Transport errors of the HTTP pool (failed dials, timeouts, resets)."},
	{watchdog.HTTPResponses5xx, "http_responses_5xx_total", kindCounter, "5xx responses received by the HTTP pool (not counted as errors)."},
	{watchdog.HTTPOpen, "http_open_connections", kindGauge, "Open connections of the HTTP pool."},
	{watchdog.HTTPActive, "http_active_connections", kindGauge, "Connections of the HTTP pool carrying a request or an unread body."},
	{watchdog.HTTPIdle, "http_idle_connections", kindGauge, "Idle connections of the HTTP pool (open - active)."},
	{watchdog.HTTPReuseRatio, "http_reuse_ratio", kindGauge, "Share of the HTTP pool's requests served on an already-open connection, 0..1."},
	{watchdog.HTTPWaiting, "http_waiting_requests", kindGauge, "Requests of the HTTP pool waiting for a connection (MaxConnsPerHost)."},
}

// seriesPlan is how one series is exported: its raw desc (nil for user gauges, which share
// one) and its value type.
type seriesPlan struct {
	desc *prometheus.Desc
	kind kind
}

// collector is the prometheus.Collector returned by New.
type collector struct {
	w     *watchdog.Watchdog
	err   error // bad options: every desc is invalid and Collect sends nothing
	plans map[string]seriesPlan
	raw   []*prometheus.Desc // own descs of raw series, in series order, for Describe

	userGauge *prometheus.Desc // <ns>_series_value{series}

	level, rate, baseline, exhaustion, probeErrors *prometheus.Desc // {series}
	alerts                                         *prometheus.Desc // {level}

	ticks, tickSeconds, lastTickDuration, maxTickDuration      *prometheus.Desc
	handlerPanics, alertsDropped, gaugePanics, gaugeStalls     *prometheus.Desc
	tickPanics, logPanics                                      *prometheus.Desc
	lastTick, stalled, running, started                        *prometheus.Desc
	interval, window                                           *prometheus.Desc
	smokeStatus, smokeStalled, smokeCheckpoints, smokeRestarts *prometheus.Desc
}

// New returns a collector over the running watchdog w, to be registered by the caller on a
// registry of their choosing (it never touches prometheus.DefaultRegisterer). Beside it,
// register client_golang's process collector (collectors.NewProcessCollector) for
// process_open_fds and process_max_fds, which the seed's queries and the generated alert
// rules use; nothing this collector exports has a process_ name.
//
// Every metric is described up front from w.SeriesNames() and w.HTTPPools(): a pool's series
// are exported as <ns>_<pool>_http_*; series that are neither built-in nor part of a pool (user
// gauges, even one named like a pool's series) are exported as <ns>_series_value{series="<name>"}. Collect reads one
// w.Snapshot() per scrape and is safe for concurrent use; it keeps working after the watchdog
// stops (with <ns>_watchdog_running 0). Besides the snapshot it reads w.SmokeReport() for the
// smoke-run status. The package doc lists every metric.
//
// w must not be nil. A bad Options.Namespace or ConstLabels shows as an error from Register.
func New(w *watchdog.Watchdog, opts Options) prometheus.Collector {
	ns := opts.namespace()
	cl := opts.ConstLabels
	c := &collector{w: w, plans: map[string]seriesPlan{}}
	if !nsPattern.MatchString(ns) {
		c.err = fmt.Errorf("exporter: namespace %q must match [a-zA-Z_][a-zA-Z0-9_]*", ns)
	}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		if c.err != nil {
			return prometheus.NewInvalidDesc(c.err)
		}
		return prometheus.NewDesc(ns+"_"+name, help, labels, cl)
	}
	pools := map[string]poolSuffix{}
	for _, p := range w.HTTPPools() {
		for _, ps := range p.Series {
			for i, h := range httpSuffixes {
				if h.suffix == ps.Suffix {
					pools[ps.Name] = poolSuffix{p.Pool, i}
				}
			}
		}
	}
	for _, n := range w.SeriesNames() {
		if b, ok := builtin[n]; ok {
			p := seriesPlan{desc: d(b.name, b.help), kind: b.kind}
			c.plans[n], c.raw = p, append(c.raw, p.desc)
			continue
		}
		if ps, ok := pools[n]; ok {
			h := httpSuffixes[ps.suffix]
			p := seriesPlan{desc: d(ps.pool+"_"+h.name, h.help), kind: h.kind}
			c.plans[n], c.raw = p, append(c.raw, p.desc)
			continue
		}
		c.plans[n] = seriesPlan{kind: kindUser}
	}
	c.userGauge = d("series_value", "Value of a series sampled from a function registered with watchdog.WithGauge, by series name.", "series")

	c.level = d("watchdog_level", "Level of the series as judged by the watchdog: 0 ok, 1 notice, 2 warning, 3 critical.", "series")
	c.rate = d("watchdog_growth_rate_per_minute", "Sustained growth of the series per minute estimated over the watchdog's window; absent until the window holds enough data.", "series")
	c.baseline = d("watchdog_baseline", "Floor the series' growth is measured from; absent until the window holds enough data.", "series")
	c.exhaustion = d("watchdog_time_to_exhaustion_seconds", "Projected time until the series' trend reaches its limit; absent when there is no forecast.", "series")
	c.probeErrors = d("watchdog_probe_errors_total", "Failed reads of the series since the watchdog started.", "series")
	c.alerts = d("watchdog_alerts_total", "Level changes since the watchdog started, by the level reached (ok counts resolutions).", "level")

	c.ticks = d("watchdog_ticks_total", "Ticks (samples of every series) taken by the watchdog.")
	c.tickSeconds = d("watchdog_tick_seconds_total", "Wall time spent in the watchdog's ticks.")
	c.lastTickDuration = d("watchdog_last_tick_duration_seconds", "Wall time of the watchdog's last tick.")
	c.maxTickDuration = d("watchdog_max_tick_duration_seconds", "Longest wall time of one watchdog tick since it started.")
	c.handlerPanics = d("watchdog_handler_panics_total", "Recovered panics of OnAlert handlers.")
	c.alertsDropped = d("watchdog_alerts_dropped_total", "Alerts not delivered to OnAlert handlers because their queue was full.")
	c.gaugePanics = d("watchdog_user_series_panics_total", "Recovered panics of functions registered with watchdog.WithGauge (Snapshot.GaugePanics).")
	c.gaugeStalls = d("watchdog_user_series_stalls_total", "Ticks at which a function registered with watchdog.WithGauge had not returned since the previous one (Snapshot.GaugeStalls).")
	c.tickPanics = d("watchdog_tick_panics_total", "Recovered panics of the sampling tick (Snapshot.TickPanics); each lost that tick's sample.")
	c.logPanics = d("watchdog_log_panics_total", "Log records lost to a logger core or slog handler that panicked (Snapshot.LogPanics).")
	c.lastTick = d("watchdog_last_tick_timestamp_seconds", "Unix time of the watchdog's last tick (its heartbeat); absent before the first.")
	c.stalled = d("watchdog_stalled", "1 when the watchdog runs but no tick completed within its StallAfter, else 0.")
	c.running = d("watchdog_running", "1 while the watchdog runs, 0 once it has stopped.")
	c.started = d("watchdog_start_time_seconds", "Unix time at which the watchdog started.")
	c.interval = d("watchdog_interval_seconds", "Sampling interval of the watchdog.")
	c.window = d("watchdog_window_seconds", "Window over which the watchdog estimates growth.")
	c.smokeStatus = d("watchdog_smoke_status", "1 for the status of the current or last smoke run (none, running, passed, failed), 0 for the others.", "status")
	c.smokeStalled = d("watchdog_smoke_stalled", "1 while a smoke run is overdue for its next checkpoint by half a checkpoint interval, else 0.")
	c.smokeCheckpoints = d("watchdog_smoke_checkpoints", "Checkpoints of the current or last smoke run so far: taken, or missed (the process was down or the watchdog stalled).", "result")
	c.smokeRestarts = d("watchdog_smoke_restarts", "Process restarts the current or last smoke run survived (with a state file).")
	return c
}

// poolSuffix is an HTTP pool series: its pool and its metric.
type poolSuffix struct {
	pool   string
	suffix int // index in httpSuffixes
}

// Describe sends every desc of the collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.raw {
		ch <- d
	}
	for _, d := range []*prometheus.Desc{
		c.userGauge, c.level, c.rate, c.baseline, c.exhaustion, c.probeErrors, c.alerts,
		c.ticks, c.tickSeconds, c.lastTickDuration, c.maxTickDuration,
		c.handlerPanics, c.alertsDropped, c.gaugePanics, c.gaugeStalls,
		c.tickPanics, c.logPanics,
		c.lastTick, c.stalled, c.running, c.started, c.interval, c.window,
		c.smokeStatus, c.smokeStalled, c.smokeCheckpoints, c.smokeRestarts,
	} {
		ch <- d
	}
}

// Collect reads one snapshot of the watchdog and sends its metrics.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if c.err != nil {
		return
	}
	s := c.w.Snapshot()
	for _, ss := range s.Series {
		p, ok := c.plans[ss.Name]
		if !ok {
			continue // not described: never send it
		}
		if ss.Valid {
			switch p.kind {
			case kindGauge:
				ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, ss.Value)
			case kindCounter:
				ch <- prometheus.MustNewConstMetric(p.desc, prometheus.CounterValue, ss.Value)
			case kindUser:
				ch <- prometheus.MustNewConstMetric(c.userGauge, prometheus.GaugeValue, ss.Value, ss.Name)
			}
		}
		if ss.Unsupported {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.level, prometheus.GaugeValue, float64(ss.Level), ss.Name)
		if ss.RateReady {
			ch <- prometheus.MustNewConstMetric(c.rate, prometheus.GaugeValue, ss.RatePerMin, ss.Name)
			ch <- prometheus.MustNewConstMetric(c.baseline, prometheus.GaugeValue, ss.Baseline, ss.Name)
		}
		if ss.TimeToExhaustion > 0 {
			ch <- prometheus.MustNewConstMetric(c.exhaustion, prometheus.GaugeValue, ss.TimeToExhaustion.Seconds(), ss.Name)
		}
		ch <- prometheus.MustNewConstMetric(c.probeErrors, prometheus.CounterValue, float64(ss.Errors), ss.Name)
	}
	for l, n := range s.AlertsTotal {
		ch <- prometheus.MustNewConstMetric(c.alerts, prometheus.CounterValue, float64(n), watchdog.Level(l).String())
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(c.ticks, float64(s.Cost.Ticks))
	counter(c.tickSeconds, s.Cost.Total.Seconds())
	gauge(c.lastTickDuration, s.Cost.Last.Seconds())
	gauge(c.maxTickDuration, s.Cost.Max.Seconds())
	counter(c.handlerPanics, float64(s.HandlerPanics))
	counter(c.alertsDropped, float64(s.AlertsDropped))
	counter(c.gaugePanics, float64(s.GaugePanics))
	counter(c.gaugeStalls, float64(s.GaugeStalls))
	counter(c.tickPanics, float64(s.TickPanics))
	counter(c.logPanics, float64(s.LogPanics))
	if !s.LastTick.IsZero() {
		gauge(c.lastTick, unixSeconds(s.LastTick))
	}
	gauge(c.stalled, boolValue(s.Stalled))
	gauge(c.running, boolValue(s.Running))
	gauge(c.started, unixSeconds(s.Started))
	gauge(c.interval, s.Interval.Seconds())
	gauge(c.window, s.Window.Seconds())

	r := c.w.SmokeReport()
	for _, st := range smokeStatuses {
		ch <- prometheus.MustNewConstMetric(c.smokeStatus, prometheus.GaugeValue, boolValue(r.Status == st), string(st))
	}
	gauge(c.smokeStalled, boolValue(r.Stalled))
	missed := 0
	for _, cp := range r.Checkpoints {
		if cp.Missed {
			missed++
		}
	}
	ch <- prometheus.MustNewConstMetric(c.smokeCheckpoints, prometheus.GaugeValue, float64(len(r.Checkpoints)-missed), "taken")
	ch <- prometheus.MustNewConstMetric(c.smokeCheckpoints, prometheus.GaugeValue, float64(missed), "missed")
	gauge(c.smokeRestarts, float64(r.Restarts))
}

// smokeStatuses are the values of the status label of <ns>_watchdog_smoke_status.
var smokeStatuses = []watchdog.SmokeStatus{watchdog.SmokeNone, watchdog.SmokeRunning, watchdog.SmokePassed, watchdog.SmokeFailed}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
