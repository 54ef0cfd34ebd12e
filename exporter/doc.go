// Package exporter hands the watchdog's series and verdicts to Prometheus: a
// prometheus.Collector over a running [watchdog.Watchdog], and alerting rules that apply the
// watchdog's thresholds fleet-wide.
package exporter
