// Package exporter hands a running [watchdog.Watchdog] to Prometheus: [New] returns a
// prometheus.Collector over its series and verdicts, and [AlertRules] generates alerting rules
// that apply the watchdog's thresholds fleet-wide, over the raw series and over the verdicts.
//
// # Quick start
//
// Register the collector on your own registry, beside client_golang's process collector (which
// gives process_open_fds and process_max_fds), and serve it:
//
//	w, err := watchdog.Start(ctx, cfg, watchdog.WithHTTPPool(dockerPool))
//	...
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(
//		exporter.New(w, exporter.Options{Namespace: "log_capturer"}),
//		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
//		collectors.NewGoCollector(),
//	)
//	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Nothing here touches prometheus.DefaultRegisterer. With namespace log_capturer and an HTTP
// pool named docker, every query of the log capturer's smoke-test guide works unchanged:
//
//	curl -s localhost:8001/metrics | grep '^log_capturer_goroutines '
//	curl -s localhost:8001/metrics | grep '^process_open_fds '
//	curl -s localhost:8001/metrics | grep docker_http
//
// The last shows the whole pool: requests, errors and 5xx responses (counters), open, active
// and idle connections, the reuse ratio and the requests waiting for a connection.
//
// # Metrics
//
// <ns> is [Options.Namespace] ([DefaultNamespace] when empty) and <pool> the name of an HTTP
// pool given to watchdog.WithHTTPPool. The list below is checked against the code by a test.
//
//	name                                           type     labels  what
//	<ns>_goroutines                                gauge    -       runtime.NumGoroutine
//	<ns>_goroutines_created_total                  counter  -       goroutines created since the program started
//	<ns>_threads                                   gauge    -       live OS threads
//	<ns>_heap_bytes                                gauge    -       bytes of live and unswept heap objects
//	<ns>_heap_live_bytes                           gauge    -       bytes the last collection marked live
//	<ns>_rss_bytes                                 gauge    -       resident set size (Linux)
//	<ns>_open_fds                                  gauge    -       open file descriptors counted by the watchdog (Linux)
//	<ns>_max_fds                                   gauge    -       soft RLIMIT_NOFILE (Linux)
//	<ns>_<pool>_http_requests_total                counter  -       requests sent through the pool
//	<ns>_<pool>_http_errors_total                  counter  -       transport errors
//	<ns>_<pool>_http_responses_5xx_total           counter  -       5xx responses (not errors)
//	<ns>_<pool>_http_open_connections              gauge    -       open connections
//	<ns>_<pool>_http_active_connections            gauge    -       connections carrying a request or an unread body
//	<ns>_<pool>_http_idle_connections              gauge    -       open - active
//	<ns>_<pool>_http_reuse_ratio                   gauge    -       share of requests served on a reused connection, 0..1
//	<ns>_<pool>_http_waiting_requests              gauge    -       requests waiting for a connection
//	<ns>_series_value                              gauge    series  value of a watchdog.WithGauge series
//	<ns>_watchdog_level                            gauge    series  0 ok, 1 notice, 2 warning, 3 critical
//	<ns>_watchdog_growth_rate_per_minute           gauge    series  sustained growth per minute over the window
//	<ns>_watchdog_baseline                         gauge    series  floor the growth is measured from
//	<ns>_watchdog_time_to_exhaustion_seconds       gauge    series  projected time until the series reaches its limit
//	<ns>_watchdog_probe_errors_total               counter  series  failed reads of the series
//	<ns>_watchdog_alerts_total                     counter  level   level changes by the level reached (ok: resolutions)
//	<ns>_watchdog_ticks_total                      counter  -       ticks taken
//	<ns>_watchdog_tick_seconds_total               counter  -       wall time spent in ticks
//	<ns>_watchdog_last_tick_duration_seconds       gauge    -       wall time of the last tick
//	<ns>_watchdog_max_tick_duration_seconds        gauge    -       longest tick since Start
//	<ns>_watchdog_handler_panics_total             counter  -       recovered panics of OnAlert handlers
//	<ns>_watchdog_alerts_dropped_total             counter  -       alerts dropped for the handlers (queue full)
//	<ns>_watchdog_user_series_panics_total         counter  -       recovered panics of WithGauge functions
//	<ns>_watchdog_user_series_stalls_total         counter  -       ticks at which a WithGauge function had not returned
//	<ns>_watchdog_tick_panics_total                counter  -       recovered panics of the sampling tick
//	<ns>_watchdog_log_panics_total                 counter  -       log records lost to a logger that panicked
//	<ns>_watchdog_last_tick_timestamp_seconds      gauge    -       Unix time of the last tick (the heartbeat)
//	<ns>_watchdog_stalled                          gauge    -       1 when no tick completed within StallAfter
//	<ns>_watchdog_running                          gauge    -       1 while running, 0 after Stop
//	<ns>_watchdog_start_time_seconds               gauge    -       Unix time of Start
//	<ns>_watchdog_interval_seconds                 gauge    -       sampling interval
//	<ns>_watchdog_window_seconds                   gauge    -       growth estimation window
//	<ns>_watchdog_smoke_status                     gauge    status  1 for the smoke run's status (none, running, passed, failed)
//	<ns>_watchdog_smoke_stalled                    gauge    -       1 while the smoke run is overdue for a checkpoint
//	<ns>_watchdog_smoke_checkpoints                gauge    result  the smoke run's checkpoints so far (taken, missed)
//	<ns>_watchdog_smoke_restarts                   gauge    -       process restarts the smoke run survived
//
// Notes:
//
//   - process_open_fds and process_max_fds are not exported here (the process collector owns
//     them); the watchdog's own figures are <ns>_open_fds and <ns>_max_fds, so nothing collides.
//   - Pools are read as data from the watchdog ([watchdog.Watchdog.HTTPPools]: each pool's
//     name and series), never parsed back from series names. Every other
//     series that is not built in (the functions given to watchdog.WithGauge) is exported as
//     <ns>_series_value{series="<name>"}, whose label joins with the verdicts' series label.
//   - A value the watchdog could not read is left out of that scrape. The growth rate and
//     baseline appear once the window holds enough data; the time to exhaustion only while
//     there is a forecast; the last-tick timestamp after the first tick. Series a platform lacks
//     (fds on macOS) have no verdict metrics.
//   - The level encoding is [watchdog.Level]: 0 ok, 1 notice, 2 warning, 3 critical.
//   - The mean tick cost is rate(<ns>_watchdog_tick_seconds_total[5m]) /
//     rate(<ns>_watchdog_ticks_total[5m]).
//
// # Alert rules
//
// [AlertRules] writes a Prometheus rule file with two groups. leakwatch_<ns>_raw applies the
// thresholds of [watchdog.Config.Rules] (the seed's by default) to the raw series, so that a
// fleet gets them from Prometheus alone:
//
//	LeakwatchGoroutineGrowth        deriv(log_capturer_goroutines[10m]) * 60 >= 20 (warning), >= 50 (critical), for 5m
//	LeakwatchFDGrowth               deriv(process_open_fds[10m]) * 60 >= 15 (warning), >= 30 (critical), for 5m
//	LeakwatchFDExhaustion           predict_linear(process_open_fds[1h], 21600) >= process_max_fds (warning), 3600 (critical), for 10m
//	LeakwatchHTTPConnectionGrowth   deriv(log_capturer_docker_http_open_connections[10m]) * 60 >= 15, >= 30
//	LeakwatchHTTPErrors             increase(log_capturer_docker_http_errors_total[5m]) > 0
//	LeakwatchHTTPNoIdleConnections  log_capturer_docker_http_idle_connections < 1 and rate(log_capturer_docker_http_requests_total[5m]) > 0, for 5m
//
// leakwatch_<ns>_verdicts alerts on the watchdog's own judgement, which also covers what the
// raw rules do not (threads, memory, gauges, its staircase and exhaustion logic):
//
//	LeakwatchWatchdogLevel    log_capturer_watchdog_level >= 2 (warning), >= 3 (critical)
//	LeakwatchWatchdogStalled  log_capturer_watchdog_stalled == 1
//	LeakwatchSmokeFailed      log_capturer_watchdog_smoke_status{status="failed"} == 1
//	LeakwatchSmokeStalled     log_capturer_watchdog_smoke_stalled == 1
//
// [RulesOptions.Selector] adds label matchers to every metric of every expression: with
// `{job="log_capturer"}` the first rule reads deriv(log_capturer_goroutines{job="log_capturer"}[10m]),
// and a shared Prometheus that scrapes other services (all of which export process_open_fds)
// fires these rules for the log capturer's processes only. Without a selector they fire for
// every process that exports the metrics. The file is written by a YAML encoder from typed
// structs, so no name or annotation can make it invalid.
//
// Rules of both severities share an alert name and differ in the severity label; a critical
// condition also fires the warning rule, so inhibit warnings by criticals in Alertmanager.
// Windows and "for" durations are [RulesOptions] fields, so tests can generate short ones.
//
// # Testing
//
// testdata/rules.yml is the output for namespace log_capturer, pool docker and selector
// {job="log_capturer"} (rewrite it with go test -run TestAlertRulesGolden -update);
// testdata/rules_test.yml holds promtool unit tests built from the seed's numbers (baseline
// GOR=95 FD=22; leaks at 25, 60 and 8 goroutines/min, 20 and 3 FDs/min; HTTP errors; no idle
// connection under traffic; another job and a canary of the same program leaking everything,
// which fires nothing); rules_unscoped_test.yml runs that last case through the rules without
// a selector, where the other job fires:
//
//	cd exporter/testdata && promtool test rules rules_test.yml
//
// go test runs promtool check rules, promtool test rules and promtool check metrics when
// promtool is on PATH, and TestRealPrometheus starts a real Prometheus server (Debian's
// prometheus package) on loopback against a leaking watchdog when prometheus is on PATH
// (about 15 s; skipped with -short).
package exporter
