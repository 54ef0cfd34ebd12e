package attribution

import (
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/watchdog/attribution/internal/heapsites"
)

// withSites makes the heap profile hold n distinct allocation sites of
// heapsites (one 64-byte object each, kept alive until cleanup): it
// samples every allocation (runtime.MemProfileRate 1) while they are made,
// then restores the rate, so the benchmark itself runs at the rate it
// found. It fails unless the profile holds all n. The process's own
// allocation sites come on top: at 10 000 the default MaxSites then cuts a
// few.
func withSites(b *testing.B, n int) {
	b.Helper()
	rate := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	keep := heapsites.Alloc(n, 64)
	runtime.MemProfileRate = rate
	b.Cleanup(func() { runtime.KeepAlive(keep) })
	runtime.GC() // publish the profile
	p := TakeHeap(HeapOptions{MaxSites: 2 * n})
	got := 0
	for _, s := range p.Sites {
		if strings.Contains(s.Site.Function, "/heapsites.f") {
			got++
		}
	}
	if got < n {
		b.Fatalf("profile holds %d of the %d sites", got, n)
	}
}

// BenchmarkHeapDiff is the heap attribution of an alert at a profile of
// 1 000 and 10 000 allocation sites: take a profile, diff it against a
// baseline taken before. It reports the profile's sites and records, the
// longest stop-the-world pause during any op (the upper bound of its
// histogram bucket), the CPU time of the process per op and the wall time
// of DiffHeap alone.
func BenchmarkHeapDiff(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			withSites(b, n)
			base := TakeHeap(HeapOptions{})
			var (
				maxPause, diff time.Duration
				long           int
				cur            *HeapProfile
			)
			cpu0 := cpuTime()
			b.ReportAllocs()
			for b.Loop() {
				pm := startPauses()
				cur = TakeHeap(HeapOptions{})
				r := DiffHeap(base, cur, DefaultTop)
				_, p := pm.stop()
				if len(cur.Sites) < n || r == nil {
					b.Fatalf("%d sites, want %d", len(cur.Sites), n)
				}
				diff += r.Cost
				maxPause = max(maxPause, p)
				if p > time.Millisecond {
					long++
				}
			}
			b.ReportMetric(float64(diff.Microseconds())/float64(b.N), "diff-µs/op")
			b.ReportMetric(float64(len(cur.Sites)), "sites")
			b.ReportMetric(float64(cur.Records), "records")
			b.ReportMetric(float64(maxPause.Microseconds()), "max-pause-µs")
			b.ReportMetric(100*float64(long)/float64(b.N), "%pause>1ms")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// BenchmarkHeapProfileProto is the reference TakeHeap avoids: the same
// profile written by runtime/pprof as gzipped protobuf (to io.Discard),
// without parsing it back.
func BenchmarkHeapProfileProto(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			withSites(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if err := pprof.Lookup("heap").WriteTo(io.Discard, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
