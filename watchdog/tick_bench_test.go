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

// stepClock is a clock for benchmarks: every Now is one second after the previous one, as
// if each tick came at the default 1s interval, and its tickers never fire, so the sampling
// goroutine only takes its first tick and the benchmark drives the rest.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func (c *stepClock) NewTicker(time.Duration) Ticker { return silentTicker{} }

type silentTicker struct{}

func (silentTicker) C() <-chan time.Time { return nil }
func (silentTicker) Stop()               {}

// benchWatchdog returns a started watchdog with the default configuration whose ticks the
// benchmark drives, each one second after the last (stepClock), past the 5-minute warm-up: the
// detector runs for real, and its estimate is refreshed when a 30 s slot closes, one tick in 30.
func benchWatchdog(b *testing.B) *Watchdog {
	b.Helper()
	c := DefaultConfig()
	// The attribution baseline, taken once after warm-up on the handlers' goroutine, is not
	// part of a tick: leave it out of the tick's allocation count.
	c.Attribution.Disabled = true
	w, err := Start(context.Background(), c, WithClock(&stepClock{t: time.Unix(1_700_000_000, 0)}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Stop() })
	for w.Snapshot().Cost.Ticks == 0 { // the sampling goroutine's first tick: then it waits
		runtime.Gosched()
	}
	for range 400 { // past the warm-up and the first window
		w.tick()
	}
	return w
}

// BenchmarkTick is one full tick of the default probes at the default 1s interval: runtime
// metrics, goroutines, FDs, and on one tick in five the FD limit, RSS and heap, then the
// detector over every series past its warm-up, history and snapshot state.
//
// Besides the mean (ns/op) it reports the median and the 99th percentile of single ticks
// (p50-ns, p99-ns), each timed on its own: the slow probes run on one tick in five, and the
// detector's estimate is refreshed when a slot closes, so the mean and the median differ.
func BenchmarkTick(b *testing.B) { benchTicks(b, benchWatchdog(b)) }

// benchTicks drives w's ticks for the benchmark and reports, beside the mean, the median and
// the 99th percentile of single ticks.
func benchTicks(b *testing.B, w *Watchdog) {
	b.Helper()
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
			benchTicks(b, benchWatchdog(b))
		})
	}
}
