package watchdog

import (
	"math"
	"runtime/metrics"
)

const (
	// metricHeapLive is the heap the last collection marked live: unlike the heap's objects
	// (metricHeap), it leaves out the garbage not yet collected, so it moves with what the
	// program keeps, not with how fast it allocates.
	metricHeapLive = "/gc/heap/live:bytes"
	// metricGCCycles counts completed collections: the live heap changes only when it does.
	metricGCCycles = "/gc/cycles/total:gc-cycles"
)

// liveHeapProbe reads the live heap after the last collection through runtime/metrics, into
// a sample slice allocated once: a read allocates nothing and stops nothing. Not safe for
// concurrent use: one goroutine (the sampling one) owns it.
type liveHeapProbe struct {
	samples []metrics.Sample // [live, cycles], or empty when the runtime lacks either
}

func newLiveHeapProbe() *liveHeapProbe {
	p := &liveHeapProbe{}
	have := 0
	for _, d := range metrics.All() {
		if (d.Name == metricHeapLive || d.Name == metricGCCycles) && d.Kind == metrics.KindUint64 {
			have++
		}
	}
	if have == 2 {
		p.samples = []metrics.Sample{{Name: metricHeapLive}, {Name: metricGCCycles}}
	}
	return p
}

// read returns the live heap in bytes as of the last completed collection, and the number of
// collections completed so far: a reading whose count has not moved since the previous one
// repeats it and carries no new information. Without the metrics (a runtime older than Go
// 1.21) the heap reads NaN and the count 0.
func (p *liveHeapProbe) read() (live float64, cycles uint64) {
	if len(p.samples) == 0 {
		return math.NaN(), 0
	}
	metrics.Read(p.samples)
	return float64(p.samples[0].Value.Uint64()), p.samples[1].Value.Uint64()
}
