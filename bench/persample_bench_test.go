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
	b.Run("leakwatch-tick", benchTick)
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

// benchTick times b.N ticks of a running watchdog at ScaledConfig(200µs), past its first window
// so the detector does its full work. ns/op is the ticks' mean wall time on the sampling
// goroutine (Snapshot().Cost) and max-ns the slowest; cpu-ns/tick is the process's CPU time
// (getrusage) over the run divided by the ticks: the process does nothing else meanwhile, so it
// is what a tick costs including the runtime's timer and wake-up, the honest figure for "CPU per
// second" at one tick a second. B/op under -benchmem counts the whole process, the Snapshot polls
// of TickCost included; BenchmarkTick in package watchdog shows a tick allocates nothing.
func benchTick(b *testing.B) {
	w, err := watchdog.Start(context.Background(), ScaledConfig(200*time.Microsecond))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	if _, err := TickCost(context.Background(), w, 300); err != nil { // the first window
		b.Fatal(err)
	}
	cpu0, cpuErr := processCPU()
	b.ResetTimer()
	cost, err := TickCost(context.Background(), w, uint64(b.N))
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cost.Mean), "ns/op")
	b.ReportMetric(float64(cost.Max), "max-ns")
	if cpu1, err := processCPU(); err == nil && cpuErr == nil {
		b.ReportMetric(float64(cpu1-cpu0)/float64(cost.Ticks), "cpu-ns/tick")
	}
}
