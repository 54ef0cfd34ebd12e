package watchdog

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// benchWatchdog returns a started watchdog whose sampling goroutine never ticks on its own
// (hour-long interval), so the benchmark can drive tick directly.
func benchWatchdog(b *testing.B) *Watchdog {
	b.Helper()
	c := DefaultConfig()
	c.Interval = 1e12
	c.Window = 3e12
	w, err := Start(context.Background(), c)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Stop() })
	for w.Snapshot().Cost.Ticks == 0 { // the sampling goroutine's first tick: then it sleeps
		runtime.Gosched()
	}
	// Read the slow probes as often as at the default 1s interval.
	w.slowEvery = uint64(slowPeriod / time.Second)
	return w
}

// BenchmarkTick is one full tick of the default probes: runtime metrics, goroutines, FDs,
// their limit and RSS (every fifth tick, as at the default 1s interval), the detector over
// every series, history and snapshot state.
//
// Besides the mean (ns/op) it reports the median and the 99th percentile of single ticks
// (p50-ns, p99-ns), each timed on its own: the slow probes run on one tick in five, and the
// detector's estimate is refreshed when a slot closes, so the mean and the median differ.
func BenchmarkTick(b *testing.B) {
	w := benchWatchdog(b)
	d := make([]time.Duration, 0, 1<<20)
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		w.tick()
		if len(d) < cap(d) {
			d = append(d, time.Since(t0))
		}
	}
	slices.Sort(d)
	if len(d) > 0 {
		b.ReportMetric(float64(d[len(d)/2]), "p50-ns")
		b.ReportMetric(float64(d[len(d)*99/100]), "p99-ns")
	}
}

// BenchmarkTickGoroutines shows that a tick costs the same at 100 and at 100000 goroutines:
// nothing in it walks the goroutines.
func BenchmarkTickGoroutines(b *testing.B) {
	for _, n := range []int{100, 100000} {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() { <-stop })
			}
			defer func() { close(stop); wg.Wait() }()
			w := benchWatchdog(b)
			b.ReportAllocs()
			for b.Loop() {
				w.tick()
			}
		})
	}
}
