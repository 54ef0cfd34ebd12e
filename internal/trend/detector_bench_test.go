package trend

import (
	"math"
	"testing"
	"time"
)

// feed runs a noisy leak with a limit through d from sample k0 for n samples.
func feed(d *Detector, k0, n int) {
	for k := k0; k < k0+n; k++ {
		v := 100 + float64(k)*0.5 + float64(k*7919%13)
		d.Step(time.Duration(k)*10*time.Second, v, 100000)
	}
}

func BenchmarkStep(b *testing.B) {
	d, err := New(DefaultParams(), fdRule)
	if err != nil {
		b.Fatal(err)
	}
	feed(d, 0, 200) // past warm-up: the steady state
	b.ReportAllocs()
	b.ResetTimer()
	k := 200
	for b.Loop() {
		v := 100 + float64(k)*0.5 + float64(k*7919%13)
		d.Step(time.Duration(k)*10*time.Second, v, 100000)
		k++
	}
}

func TestStepDoesNotAllocate(t *testing.T) {
	d, err := New(DefaultParams(), fdRule)
	if err != nil {
		t.Fatal(err)
	}
	feed(d, 0, 200)
	k := 200
	allocs := testing.AllocsPerRun(1000, func() {
		d.Step(time.Duration(k)*10*time.Second, 100+float64(k), math.NaN())
		k++
	})
	if allocs != 0 {
		t.Errorf("Step allocates %v times per call, want 0", allocs)
	}
}
