package exporter

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/leakwatch/leakwatch/watchdog"
	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

// BenchmarkCollect is one scrape's worth of work: Collect of the leakwatch collector (a watchdog
// with the default series, one HTTP pool and one gauge: about 60 metrics), beside the same for
// client_golang's process collector and Go collector, measured in the same run. A scrape runs
// on the scraper's goroutine, never on the sampling one.
func BenchmarkCollect(b *testing.B) {
	pool, err := httppool.New("docker")
	if err != nil {
		b.Fatal(err)
	}
	cfg := watchdog.DefaultConfig()
	cfg.Attribution.Disabled = true
	w, err := watchdog.Start(context.Background(), cfg, watchdog.WithHTTPPool(pool),
		watchdog.WithGauge("open_streams", func() float64 { return 7 }))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Stop() })
	for w.Snapshot().Cost.Ticks == 0 {
		time.Sleep(time.Millisecond)
	}
	for _, bc := range []struct {
		name string
		c    prometheus.Collector
	}{
		{"leakwatch", New(w, Options{Namespace: "log_capturer"})},
		{"client_golang-process", collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})},
		{"client_golang-go", collectors.NewGoCollector()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ch := make(chan prometheus.Metric, 1024)
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				bc.c.Collect(ch)
				n = len(ch)
				for len(ch) > 0 {
					<-ch
				}
			}
			b.ReportMetric(float64(n), "metrics")
		})
	}
}
