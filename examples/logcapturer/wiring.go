package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/leakwatch/leakwatch/exporter"
	"github.com/leakwatch/leakwatch/watchdog"
)

// smokeFinished returns a channel that receives whether the smoke run passed once it has
// finished, or nil (never ready) without -exit-after-smoke. It polls the watchdog's report
// every poll until ctx ends, and logs the verdict with its reasons.
func smokeFinished(ctx context.Context, w *watchdog.Watchdog, o *options, log *zap.Logger, poll time.Duration) <-chan bool {
	if !o.exitAfterSmoke {
		return nil
	}
	ch := make(chan bool, 1)
	go func() {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			r := w.SmokeReport()
			switch r.Status {
			case watchdog.SmokePassed, watchdog.SmokeFailed:
				passed := r.Status == watchdog.SmokePassed
				lvl := log.Info
				if !passed {
					lvl = log.Warn
				}
				lvl("smoke run over, exiting", zap.String("verdict", r.Verdict), zap.Strings("reasons", r.Reasons))
				ch <- passed
				return
			}
		}
	}()
	return ch
}

// mountWatchdog mounts the watchdog's self-report on mux: /smoke (the smoke run as JSON, or
// ?format=text|md|html) and /watchdog (every series, the recent alerts, the heartbeat).
// allowPOST lets POST /smoke start a run.
func mountWatchdog(mux *http.ServeMux, w *watchdog.Watchdog, allowPOST bool) {
	h := w.Handler(watchdog.HandlerOptions{AllowSmokePOST: allowPOST})
	mux.Handle("/smoke", h)
	mux.Handle("/watchdog", h)
}

// printAlertRules writes the exporter's generated Prometheus alerting rules for this program's
// metrics: namespace log_capturer, HTTP pool docker, the watchdog's default thresholds, every
// expression scoped by selector (exporter.RulesOptions.Selector).
func printAlertRules(out io.Writer, selector string) error {
	b, err := exporter.AlertRules(exporter.RulesOptions{Namespace: metricsNamespace, Pools: []string{"docker"}, Selector: selector})
	if err != nil {
		return fmt.Errorf("alert rules: %w", err)
	}
	_, err = out.Write(b)
	return err
}
