package watchdog

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/trend"
)

func nan() float64 { return math.NaN() }

// fastConfig is a configuration for tests that run seconds of behaviour in a synctest bubble.
func fastConfig() Config {
	c := DefaultConfig()
	c.Interval = 100 * time.Millisecond
	c.Window = 3 * time.Second
	c.Warmup = time.Nanosecond // judge from the first sample (zero would mean the default, 5 min)
	return c
}

func series(t *testing.T, s Snapshot, name string) SeriesSnapshot {
	t.Helper()
	x, ok := s.Lookup(name)
	if !ok {
		t.Fatalf("snapshot has no series %q", name)
	}
	return x
}

// traceColumn returns the values of the trace's column named name and true, or nil and false.
func traceColumn(tr *trend.Trace, name string) ([]float64, bool) {
	if i := slices.Index(tr.Columns, name); i >= 0 {
		return tr.Values[i], true
	}
	return nil, false
}
