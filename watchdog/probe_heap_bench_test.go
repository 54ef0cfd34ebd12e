package watchdog

import (
	"math"
	"testing"
)

// BenchmarkLiveHeapProbe is one read of the live heap and the collection count, as a slow tick
// would make it.
func BenchmarkLiveHeapProbe(b *testing.B) {
	p := newLiveHeapProbe()
	b.ReportAllocs()
	var sink float64
	for b.Loop() {
		v, _ := p.read()
		sink += v
	}
	if math.IsNaN(sink) {
		b.Fatal("no live heap metric")
	}
}
