package exporter_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/leakwatch/leakwatch/exporter"
	"github.com/leakwatch/leakwatch/watchdog"
	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

// Register the exporter and the process collector on a new registry, as the log capturer does,
// and list the families the seed's "grep docker_http" shows.
func ExampleNew() {
	pool, err := httppool.New("docker")
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := watchdog.DefaultConfig()
	cfg.Attribution.Disabled = true
	w, err := watchdog.Start(context.Background(), cfg, watchdog.WithHTTPPool(pool))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	for i := 0; i < 5000 && w.Snapshot().LastTick.IsZero(); i++ {
		time.Sleep(time.Millisecond) // the first sample is taken at once; wait for it
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		exporter.New(w, exporter.Options{Namespace: "log_capturer"}),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	mfs, err := reg.Gather()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, mf := range mfs {
		if strings.Contains(mf.GetName(), "docker_http") {
			fmt.Println(mf.GetName(), strings.ToLower(mf.GetType().String()))
		}
	}
	// Output:
	// log_capturer_docker_http_active_connections gauge
	// log_capturer_docker_http_errors_total counter
	// log_capturer_docker_http_idle_connections gauge
	// log_capturer_docker_http_open_connections gauge
	// log_capturer_docker_http_requests_total counter
	// log_capturer_docker_http_responses_5xx_total counter
	// log_capturer_docker_http_reuse_ratio gauge
	// log_capturer_docker_http_waiting_requests gauge
}

// Generate the fleet rules for the log capturer, scoped to its job, and print the goroutine
// rules.
func ExampleAlertRules() {
	rules, err := exporter.AlertRules(exporter.RulesOptions{
		Namespace: "log_capturer",
		Pools:     []string{"docker"},
		Selector:  `{job="log_capturer"}`,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	for _, line := range strings.Split(string(rules), "\n") {
		if strings.Contains(line, "log_capturer_goroutines") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// expr: "deriv(log_capturer_goroutines{job=\"log_capturer\"}[10m]) * 60 >= 20"
	// expr: "deriv(log_capturer_goroutines{job=\"log_capturer\"}[10m]) * 60 >= 50"
}
