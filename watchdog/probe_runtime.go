package watchdog

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// runtimeProbe reads the Go runtime's figures through runtime/metrics into a sample slice
// allocated once, so a read allocates nothing and never stops the world (unlike
// runtime.ReadMemStats).
type runtimeProbe struct {
	samples    []metrics.Sample // read on slow ticks only
	iCreated   int              // index in samples, -1 when the runtime lacks the metric
	iThreads   int
	iHeap      int
	iMemLimit  int
	maxThreads float64
}

const (
	metricCreated  = "/sched/goroutines-created:goroutines"
	metricThreads  = "/sched/threads/total:threads"
	metricHeap     = "/memory/classes/heap/objects:bytes"
	metricMemLimit = "/gc/gomemlimit:bytes"
)

func newRuntimeProbe() *runtimeProbe {
	p := &runtimeProbe{iCreated: -1, iThreads: -1, iHeap: -1, iMemLimit: -1}
	have := map[string]bool{}
	for _, d := range metrics.All() {
		have[d.Name] = true
	}
	for _, m := range []struct {
		name string
		idx  *int
	}{{metricCreated, &p.iCreated}, {metricThreads, &p.iThreads}, {metricHeap, &p.iHeap}, {metricMemLimit, &p.iMemLimit}} {
		if have[m.name] {
			*m.idx = len(p.samples)
			p.samples = append(p.samples, metrics.Sample{Name: m.name})
		}
	}
	// The runtime offers no getter for the thread limit: set it and put it back at once.
	prev := debug.SetMaxThreads(10000)
	debug.SetMaxThreads(prev)
	p.maxThreads = float64(prev)
	return p
}

// read fills the runtime series of v; a metric the runtime lacks reads as NaN. The goroutine
// count is read every tick; the runtime/metrics figures (threads, goroutines created, heap) only
// when slow is set, every few seconds, and keep their previous reading in between: reading the
// heap makes the runtime aggregate its heap statistics, and these figures move slowly. The
// series held here are listed in slowSeries, which the tick hands to the engine as unread.
func (p *runtimeProbe) read(v []float64, lim []float64, slow bool) {
	if slow {
		metrics.Read(p.samples)
	}
	v[idxGoroutines] = float64(runtime.NumGoroutine())
	v[idxGoroutinesCreated] = p.value(p.iCreated)
	v[idxThreads] = p.value(p.iThreads)
	lim[idxThreads] = p.maxThreads
	v[idxHeapBytes] = p.value(p.iHeap)
	if ml := p.value(p.iMemLimit); ml > 0 && ml < math.MaxInt64 {
		lim[idxHeapBytes] = ml
	}
}

func (p *runtimeProbe) value(i int) float64 {
	if i < 0 {
		return math.NaN()
	}
	switch s := p.samples[i].Value; s.Kind() {
	case metrics.KindUint64:
		return float64(s.Uint64())
	case metrics.KindFloat64:
		return s.Float64()
	}
	return math.NaN()
}
