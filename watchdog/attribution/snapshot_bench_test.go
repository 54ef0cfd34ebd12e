package attribution

import (
	"runtime"
	"testing"
)

// BenchmarkBaselineRetained takes a snapshot of 10 000 parked goroutines (8 stacks) and
// 10 000 open descriptors and reports the heap it keeps alive whole ("full-B") and reduced by
// Counts ("counts-B"): what a baseline held for the process's life costs.
func BenchmarkBaselineRetained(b *testing.B) {
	if !fdsSupported {
		b.Skip("no /proc")
	}
	stop := make(chan struct{})
	wg := park(b, 10_000, stop)
	defer func() { close(stop); wg.Wait() }()
	defer openFDs(b, 10_000)()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var full, counts uint64
	n := 0
	for b.Loop() {
		h0 := heap()
		s, err := Take(DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		h1 := heap()
		c := s.Counts()
		s = nil
		h2 := heap()
		runtime.KeepAlive(s)
		if c.FDs == nil || c.FDs.Total < 10_000 || !c.Grouped {
			b.Fatalf("snapshot lacks a part: %+v", c.Notes)
		}
		full += h1 - h0
		counts += h2 - h0
		runtime.KeepAlive(c)
		n++
	}
	b.ReportMetric(float64(full)/float64(n), "full-B")
	b.ReportMetric(float64(counts)/float64(n), "counts-B")
}
