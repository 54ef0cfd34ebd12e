package main

import (
	"fmt"
	"io"
	"net/http"

	"go.uber.org/zap"

	"github.com/leakwatch/leakwatch/exporter"
	"github.com/leakwatch/leakwatch/watchdog"
)

// smokeDone returns the watchdog option that reports the end of the smoke run, and the
// channel that receives whether it passed; without -exit-after-smoke, no option (nil, which
// Start ignores) and a nil channel (never ready). The watchdog calls back once the run has
// finished and its result files are written; the verdict is logged with its reasons. Only the
// first run's verdict is kept (a later run started by POST /smoke finds the channel full).
func smokeDone(o *options, log *zap.Logger) (watchdog.Option, <-chan bool) {
	if !o.exitAfterSmoke {
		return nil, nil
	}
	ch := make(chan bool, 1)
	return watchdog.OnSmokeDone(func(r watchdog.SmokeReport) {
		passed := r.Status == watchdog.SmokePassed
		lvl := log.Info
		if !passed {
			lvl = log.Warn
		}
		lvl("smoke run over, exiting", zap.String("verdict", r.Verdict), zap.Strings("reasons", r.Reasons))
		select {
		case ch <- passed:
		default:
		}
	}), ch
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
