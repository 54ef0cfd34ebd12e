package watchdog

import (
	"testing"
	"time"
)

// BenchmarkSmokeTick is the smoke run's share of a tick between two checkpoints: it must not
// allocate.
func BenchmarkSmokeTick(b *testing.B) {
	w := benchWatchdog(b)
	for w.Snapshot().Cost.Ticks == 0 { // the first tick, taken at Start, owns the values
		time.Sleep(time.Millisecond)
	}
	if err := w.StartSmoke(SmokeConfig{Duration: 1e15, Checkpoint: 1e14}); err != nil {
		b.Fatal(err)
	}
	// What the tick hands the run (see Watchdog.tick).
	in := smokeInput{now: w.clock.Now(), fig: smokeFiguresOf(w.vals, w.pool0, len(w.pools)), values: w.vals, snapshot: w.smokeSnap}
	now := in.now
	w.smokeSt.step(&in) // the baseline
	in.now = now.Add(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		w.smokeSt.step(&in)
	}
	if got := w.SmokeReport(); got.Baseline == nil || len(got.Checkpoints) != 0 {
		b.Fatalf("report = %+v, want a baseline and no checkpoint", got)
	}
}
