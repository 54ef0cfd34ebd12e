package trend

import (
	"math"
	"testing"
	"time"
)

// feed runs a noisy leak with a limit through d from sample k0 for n samples, every 10 s.
func feed(d *Detector, k0, n int) {
	for k := k0; k < k0+n; k++ {
		d.Step(time.Duration(k)*10*time.Second, benchValue(k), 100000, true)
	}
}

func benchValue(k int) float64 { return 100 + float64(k)*0.5 + float64(k*7919%13) }

func newBenchDetector(b *testing.B) *Detector {
	b.Helper()
	d, err := New(DefaultParams(), fdRule)
	if err != nil {
		b.Fatal(err)
	}
	feed(d, 0, 200) // past warm-up and MinSpan: the steady state
	return d
}

// BenchmarkStep measures one Step of a Ready detector with a limit:
//
//   - steady: a typical tick, inside a slot (the slot minimum and O(1) checks);
//   - slot-close: every call opens a new slot, so every call re-estimates (the worst tick);
//   - ticks-10s: samples every 10 s, so one call in three closes a slot (the workload of the
//     original benchmark, amortized);
//   - ticks-1s: samples every second, the watchdog's default interval (one in 30 closes a slot).
func BenchmarkStep(b *testing.B) {
	b.Run("steady", func(b *testing.B) {
		d := newBenchDetector(b)
		at := 200 * 10 * time.Second // the start of a slot: every call stays in it
		b.ReportAllocs()
		b.ResetTimer()
		k := 0
		for b.Loop() {
			d.Step(at+time.Duration(k), benchValue(k), 100000, true)
			k++
		}
	})
	b.Run("slot-close", func(b *testing.B) {
		d := newBenchDetector(b)
		slot := d.p.Window / time.Duration(d.p.Slots)
		at := 200 * 10 * time.Second
		b.ReportAllocs()
		b.ResetTimer()
		k := 200
		for b.Loop() {
			at += slot
			d.Step(at, benchValue(k), 100000, true)
			k += 3
		}
	})
	for _, every := range []time.Duration{10 * time.Second, time.Second} {
		b.Run("ticks-"+every.String(), func(b *testing.B) {
			d := newBenchDetector(b)
			at := 200 * 10 * time.Second
			b.ReportAllocs()
			b.ResetTimer()
			k := 200
			for b.Loop() {
				at += every
				d.Step(at, benchValue(k), 100000, true)
				k++
			}
		})
	}
}

func TestStepDoesNotAllocate(t *testing.T) {
	d, err := New(DefaultParams(), fdRule)
	if err != nil {
		t.Fatal(err)
	}
	feed(d, 0, 200)
	k := 200
	// every call closes a slot, so the estimate runs every time
	allocs := testing.AllocsPerRun(1000, func() {
		d.Step(time.Duration(k)*30*time.Second, 100+float64(k)+float64(k*7919%13), math.NaN(), true)
		k++
	})
	if allocs != 0 {
		t.Errorf("Step allocates %v times per call, want 0", allocs)
	}
}
