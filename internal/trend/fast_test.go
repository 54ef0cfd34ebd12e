package trend

import (
	"os"
	"slices"
	"testing"
	"time"
)

// heapLikeParams are the live heap's parameters at the watchdog's defaults.
func heapLikeParams(span time.Duration) Params {
	return Params{Window: 20 * time.Minute, Warmup: 6 * time.Minute, Confirm: 150 * time.Second, Resolve: 5 * time.Minute,
		QuietWarmup: true, FastEvidence: 1, FastSteadySpan: span}
}

// firstRaise replays column col of a corpus trace through one Detector and returns the first
// level above ok and its time (OK, 0 when none).
func firstRaise(t *testing.T, path, col string, p Params, r Rule) (Level, time.Duration) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(tr.Columns, col)
	if i < 0 {
		t.Fatalf("%s: no column %q", path, col)
	}
	d, err := New(p, r)
	if err != nil {
		t.Fatal(err)
	}
	vs := tr.Values[i]
	for k, ts := range tr.T {
		at := time.Duration(ts * float64(time.Second))
		if v := d.Step(at, vs[k], 0, true); v.Level > OK {
			return v.Level, at
		}
	}
	return OK, 0
}

// TestFastSteadySpan: a cache warming up (+150 MiB, 5-minute time constant) whose readings
// jitter with the requests in flight at each collection looks steady over 2-minute segments
// and is raised by a fast rule at FastEvidence 1; requiring steady growth over 4 minutes too
// keeps it ok, while a steady leak (4 MiB/min from 20 min) is still raised by it.
func TestFastSteadySpan(t *testing.T) {
	r := Rule{NoticePerMin: 1 * mib, WarningPerMin: 2 * mib}
	warm := "testdata/heap/clean-heap-warmup.csv"
	if l, at := firstRaise(t, warm, "heap_live_bytes", heapLikeParams(0), r); l == OK {
		t.Errorf("cache warm-up without FastSteadySpan: ok; the case no longer shows what the span is for")
	} else {
		t.Logf("cache warm-up without FastSteadySpan: %v at %v", l, at)
	}
	if l, at := firstRaise(t, warm, "heap_live_bytes", heapLikeParams(4*time.Minute), r); l != OK {
		t.Errorf("cache warm-up with FastSteadySpan 4m: %v at %v, want ok", l, at)
	}
	if l, at := firstRaise(t, "testdata/heap/leak-heap-steady.csv", "heap_live_bytes", heapLikeParams(4*time.Minute), r); l == OK || at > 35*time.Minute {
		t.Errorf("steady leak from 20 min with FastSteadySpan 4m: %v at %v, want raised by 35 min", l, at)
	}
}

// TestFastParamsValidate: FastEvidence and FastSteadySpan out of range are named.
func TestFastParamsValidate(t *testing.T) {
	for _, p := range []Params{{FastEvidence: -1}, {FastEvidence: 9}, {FastSteadySpan: -time.Second}, {Window: time.Minute, FastSteadySpan: 21 * time.Second}} {
		if err := p.Validate(); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
	if err := (Params{Window: time.Minute, FastEvidence: 0.5, FastSteadySpan: 20 * time.Second}).Validate(); err != nil {
		t.Errorf("valid: %v", err)
	}
}
