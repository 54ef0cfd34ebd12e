package attribution

import (
	"encoding/json"
	"math"
	"runtime/metrics"
	"time"
)

// Cost is what taking a snapshot cost the process. Durations are wall
// time; JSON carries them in seconds (total_s, goroutines_s,
// profile_call_s, leak_profile_s, fds_s, max_pause_s), as everywhere on
// leakwatch's wire.
type Cost struct {
	// Total is the wall time of the whole snapshot: the sum of the parts,
	// or less with Options.Overlap, where Goroutines and FDs overlap.
	Total time.Duration `json:"-"` // JSON: total_s
	// Goroutines is the wall time of the goroutine profile and grouping.
	Goroutines time.Duration `json:"-"` // JSON: goroutines_s
	// ProfileCall is the wall time of the runtime.GoroutineProfile call
	// alone: an upper bound of its two stop-the-world pauses.
	ProfileCall time.Duration `json:"-"` // JSON: profile_call_s
	// LeakProfile is the wall time of the goroutineleak profile (which
	// runs a garbage collection cycle); 0 when not collected.
	LeakProfile time.Duration `json:"-"` // JSON: leak_profile_s
	// FDs is the wall time of reading and classifying descriptors.
	FDs time.Duration `json:"-"` // JSON: fds_s
	// Pauses is the number of stop-the-world pauses of the process while
	// the snapshot ran (runtime/metrics /sched/pauses/total/*), whatever
	// caused them.
	Pauses uint64 `json:"pauses"`
	// MaxPause is the upper bound of the histogram bucket holding the
	// longest of those pauses; 0 when there was none.
	MaxPause time.Duration `json:"-"` // JSON: max_pause_s
}

type costJSON struct {
	Total       float64 `json:"total_s"`
	Goroutines  float64 `json:"goroutines_s"`
	ProfileCall float64 `json:"profile_call_s"`
	LeakProfile float64 `json:"leak_profile_s"`
	FDs         float64 `json:"fds_s"`
	Pauses      uint64  `json:"pauses"`
	MaxPause    float64 `json:"max_pause_s"`
}

// MarshalJSON encodes the cost with its durations in seconds.
func (c Cost) MarshalJSON() ([]byte, error) {
	return json.Marshal(costJSON{c.Total.Seconds(), c.Goroutines.Seconds(), c.ProfileCall.Seconds(),
		c.LeakProfile.Seconds(), c.FDs.Seconds(), c.Pauses, c.MaxPause.Seconds()})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (c *Cost) UnmarshalJSON(b []byte) error {
	var x costJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*c = Cost{seconds(x.Total), seconds(x.Goroutines), seconds(x.ProfileCall), seconds(x.LeakProfile),
		seconds(x.FDs), x.Pauses, seconds(x.MaxPause)}
	return nil
}

// seconds converts seconds, as JSON carries durations, to a Duration.
func seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

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
