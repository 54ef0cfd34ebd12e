package bench

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/procfs"

	"github.com/leakwatch/leakwatch/watchdog"
)

// BenchmarkPerSample compares what one sample costs: a tick of a running watchdog (timed by
// the watchdog itself, see TickCost) beside what a service would otherwise call once per scrape
// or interval. Run it with -benchmem -count 6 and compare medians of the same run.
func BenchmarkPerSample(b *testing.B) {
	// leakwatch-tick: ns/op is the mean wall time of the watchdog's own ticks (Snapshot().Cost),
	// each on its sampling goroutine at a 200µs interval, max-ns the slowest tick. Allocations
	// are not reported here: the process-wide count would include the Snapshot calls that poll
	// the tick count; BenchmarkTick in package watchdog shows that a tick allocates nothing.
	b.Run("leakwatch-tick", func(b *testing.B) {
		w, err := watchdog.Start(context.Background(), ScaledConfig(200*time.Microsecond))
		if err != nil {
			b.Fatal(err)
		}
		defer w.Stop()
		b.ResetTimer()
		cost, err := TickCost(context.Background(), w, uint64(b.N))
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(cost.Mean), "ns/op")
		b.ReportMetric(float64(cost.Max), "max-ns")
	})
	b.Run("client_golang-process-collect", func(b *testing.B) {
		drain(b, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	})
	b.Run("client_golang-go-collect", func(b *testing.B) {
		drain(b, collectors.NewGoCollector())
	})
	b.Run("procfs-stat+fdlen", func(b *testing.B) {
		if runtime.GOOS != "linux" {
			b.Skip("Linux only")
		}
		fs, err := procfs.NewDefaultFS()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			p, err := fs.Self()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.Stat(); err != nil {
				b.Fatal(err)
			}
			if _, err := p.FileDescriptorsLen(); err != nil {
				b.Fatal(err)
			}
		}
	})
	// ReadMemStats stops the world: every goroutine of the service pauses for its duration, which
	// grows with the heap and the number of Ps; the ns/op here is only the caller's share.
	b.Run("runtime-ReadMemStats", func(b *testing.B) {
		var ms runtime.MemStats
		b.ReportAllocs()
		for b.Loop() {
			runtime.ReadMemStats(&ms)
		}
	})
	// The same figures through runtime/metrics, which does not stop the world, into a sample
	// slice allocated once.
	b.Run("runtime-metrics-Read", func(b *testing.B) {
		s := make([]metrics.Sample, len(memStatsMetrics))
		for i, n := range memStatsMetrics {
			s[i].Name = n
		}
		b.ReportAllocs()
		for b.Loop() {
			metrics.Read(s)
		}
		for _, x := range s {
			if x.Value.Kind() == metrics.KindBad {
				b.Fatalf("runtime/metrics lacks %s", x.Name)
			}
		}
	})
	b.Run("runtime-NumGoroutine", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			runtime.NumGoroutine()
		}
	})
}

// memStatsMetrics are the runtime/metrics counterparts of the MemStats fields a leak watcher
// reads (HeapAlloc, HeapObjects, Sys, NumGC, TotalAlloc), with goroutines, threads and the memory
// limit.
var memStatsMetrics = []string{
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/objects:objects",
	"/memory/classes/total:bytes",
	"/gc/cycles/total:gc-cycles",
	"/gc/heap/allocs:bytes",
	"/sched/goroutines:goroutines",
	"/sched/threads/total:threads",
	"/gc/gomemlimit:bytes",
}

// drain times one Collect of c, emptying the channel as a registry would.
func drain(b *testing.B, c prometheus.Collector) {
	b.Helper()
	ch := make(chan prometheus.Metric, 256)
	b.ReportAllocs()
	for b.Loop() {
		c.Collect(ch)
		for len(ch) > 0 {
			<-ch
		}
	}
}
