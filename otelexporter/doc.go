// Package otelexporter publishes a running [watchdog.Watchdog] through OpenTelemetry: [Register]
// registers its series, levels and alert counts as asynchronous instruments on a
// metric.MeterProvider, for fleets that export through OTel rather than a Prometheus registry
// (for those, see package github.com/leakwatch/leakwatch/exporter).
//
// It is a module of its own (github.com/leakwatch/leakwatch/otelexporter), so that the core
// module's dependency graph holds no OpenTelemetry package.
//
// # Use
//
//	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)) // any metric.MeterProvider
//	reg, err := otelexporter.Register(w, mp)
//	...
//	defer reg.Unregister()
//
// One callback reads one w.Snapshot() per collection and observes every instrument from it, so
// the figures of one collection are of one tick. A series that could not be read at its last
// tick (Valid false) is not observed. The callback keeps working after the watchdog stops.
//
// # Instruments
//
// Names follow the OpenTelemetry semantic conventions where one exists, and carry the
// leakwatch. prefix where none does. Attributes: leakwatch.series (the watchdog's series name),
// leakwatch.pool (an HTTP pool's name, as given to httppool.New), http.connection.state,
// leakwatch.level.
//
//	name                                        kind            unit               series
//	go.goroutine.count                          UpDownCounter   {goroutine}        goroutines
//	process.thread.count                        UpDownCounter   {thread}           threads
//	process.unix.file_descriptor.count          UpDownCounter   {file_descriptor}  fds
//	process.memory.usage                        UpDownCounter   By                 rss_bytes
//	leakwatch.goroutine.created                 Counter         {goroutine}        goroutines_created
//	leakwatch.heap.usage                        UpDownCounter   By                 heap_bytes
//	leakwatch.file_descriptor.limit             UpDownCounter   {file_descriptor}  fd_limit
//	http.client.open_connections                UpDownCounter   {connection}       http_<pool>_active, http_<pool>_idle
//	                                                                               (http.connection.state active / idle, leakwatch.pool)
//	leakwatch.http.client.requests              Counter         {request}          http_<pool>_requests
//	leakwatch.http.client.errors                Counter         {error}            http_<pool>_errors
//	leakwatch.http.client.responses_5xx         Counter         {response}         http_<pool>_responses_5xx
//	leakwatch.http.client.connection.reuse_ratio Gauge          1                  http_<pool>_reuse_ratio
//	leakwatch.http.client.waiting_requests      UpDownCounter   {request}          http_<pool>_waiting
//	leakwatch.series.value                      Gauge           1                  gauges of watchdog.WithGauge (leakwatch.series)
//
// The pool's open connections (http_<pool>_open) are the sum of the two states. The watchdog's
// verdicts, per series (leakwatch.series):
//
//	leakwatch.level                   Gauge    1          0 ok, 1 notice, 2 warning, 3 critical
//	leakwatch.growth_rate             Gauge    {item}/min sustained growth over the window; absent until the window holds enough data
//	leakwatch.time_to_exhaustion      Gauge    s          projected time until the limit; absent without a forecast
//	leakwatch.probe.errors            Counter  {error}    failed reads of the series
//
// and of the watchdog itself:
//
//	leakwatch.alerts                  Counter  {alert}    level changes since Start by the level reached (leakwatch.level; ok counts resolutions)
//	leakwatch.watchdog.ticks          Counter  {tick}     ticks taken
//	leakwatch.watchdog.tick.time      Counter  s          wall time spent in ticks
//	leakwatch.watchdog.stalled        Gauge    1          1 when no tick completed within StallAfter
//	leakwatch.watchdog.running        Gauge    1          1 while the watchdog runs
//
// # Cost
//
// A collection costs one Snapshot (O(series + recent alerts)) and one observation per
// instrument and attribute set; the attribute sets are built once, at Register.
package otelexporter
