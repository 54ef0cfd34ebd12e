package otelexporter_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/leakwatch/leakwatch/otelexporter"
	"github.com/leakwatch/leakwatch/watchdog"
)

// Publish a watchdog's series through an OpenTelemetry SDK meter provider (here with a manual
// reader; a service would use a periodic reader and an OTLP exporter) and list what one
// collection holds.
func Example() {
	cfg := watchdog.DefaultConfig()
	cfg.Interval, cfg.Window = time.Hour, 3*time.Hour // one tick, at Start, for a stable output
	w, err := watchdog.Start(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer w.Stop()
	for w.Snapshot().Cost.Ticks == 0 {
		time.Sleep(time.Millisecond)
	}

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	reg, err := otelexporter.Register(w, mp)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer reg.Unregister()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	var names []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			names = append(names, m.Name+" "+m.Unit)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if slices.Contains([]string{"go.goroutine.count {goroutine}", "leakwatch.level 1",
			"leakwatch.alerts {alert}", "leakwatch.watchdog.ticks {tick}"}, n) {
			fmt.Println(n)
		}
	}
	// Output:
	// go.goroutine.count {goroutine}
	// leakwatch.alerts {alert}
	// leakwatch.level 1
	// leakwatch.watchdog.ticks {tick}
}
