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
	samples    []metrics.Sample // every metric: read on slow ticks
	fast       []metrics.Sample // the cheap ones (goroutines created, threads): read every tick
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
	// The heap figures make the runtime aggregate its heap statistics, about a third of a tick:
	// they are read on slow ticks only. The cheap ones are read every tick, into the same values.
	for _, x := range p.samples {
		if x.Name == metricCreated || x.Name == metricThreads {
			p.fast = append(p.fast, x)
		}
	}
	// The runtime offers no getter for the thread limit: set it and put it back at once.
	prev := debug.SetMaxThreads(10000)
	debug.SetMaxThreads(prev)
	p.maxThreads = float64(prev)
	return p
}

// read fills the runtime series of v; a metric the runtime lacks reads as NaN. With slow false
// the heap figures keep their previous reading.
func (p *runtimeProbe) read(v []float64, lim []float64, slow bool) {
	if slow {
		metrics.Read(p.samples)
	} else {
		metrics.Read(p.fast)
		for _, x := range p.fast {
			for i := range p.samples {
				if p.samples[i].Name == x.Name {
					p.samples[i].Value = x.Value
				}
			}
		}
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
