package attribution

import (
	"runtime/metrics"
	"time"
)

// Cost is what taking a snapshot cost the process. Durations are wall
// time; JSON encodes them in nanoseconds.
type Cost struct {
	// Total is the wall time of the whole snapshot: the sum of the parts,
	// or less with Options.Overlap, where Goroutines and FDs overlap.
	Total time.Duration `json:"total_ns"`
	// Goroutines is the wall time of the goroutine profile and grouping.
	Goroutines time.Duration `json:"goroutines_ns"`
	// ProfileCall is the wall time of the runtime.GoroutineProfile call
	// alone: an upper bound of its two stop-the-world pauses.
	ProfileCall time.Duration `json:"profile_call_ns"`
	// LeakProfile is the wall time of the goroutineleak profile (which
	// runs a garbage collection cycle); 0 when not collected.
	LeakProfile time.Duration `json:"leak_profile_ns"`
	// FDs is the wall time of reading and classifying descriptors.
	FDs time.Duration `json:"fds_ns"`
	// Pauses is the number of stop-the-world pauses of the process while
	// the snapshot ran (runtime/metrics /sched/pauses/total/*), whatever
	// caused them.
	Pauses uint64 `json:"pauses"`
	// MaxPause is the upper bound of the histogram bucket holding the
	// longest of those pauses; 0 when there was none.
	MaxPause time.Duration `json:"max_pause_ns"`
}

var pauseMetrics = []string{"/sched/pauses/total/other:seconds", "/sched/pauses/total/gc:seconds"}

// pauseMeter reads the runtime's stop-the-world pause histograms.
type pauseMeter struct {
	before []metrics.Sample
	after  []metrics.Sample
}

func startPauses() *pauseMeter {
	m := &pauseMeter{before: samples(), after: samples()}
	metrics.Read(m.before)
	return m
}

func samples() []metrics.Sample {
	s := make([]metrics.Sample, len(pauseMetrics))
	for i, n := range pauseMetrics {
		s[i].Name = n
	}
	return s
}

// stop returns the number of pauses since start and the upper bound of the
// largest.
func (m *pauseMeter) stop() (n uint64, max time.Duration) {
	metrics.Read(m.after)
	for i := range m.after {
		if m.after[i].Value.Kind() != metrics.KindFloat64Histogram ||
			m.before[i].Value.Kind() != metrics.KindFloat64Histogram {
			continue
		}
		a, b := m.after[i].Value.Float64Histogram(), m.before[i].Value.Float64Histogram()
		for j := range a.Counts {
			d := a.Counts[j] - b.Counts[j]
			if d == 0 {
				continue
			}
			n += d
			hi := a.Buckets[j+1]
			if hi > 1e9 { // the last bucket is unbounded
				hi = a.Buckets[j]
			}
			if up := time.Duration(hi * 1e9); up > max {
				max = up
			}
		}
	}
	return n, max
}
