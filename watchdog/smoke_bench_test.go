package watchdog

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
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

// BenchmarkSmokeCheckpointTick is the smoke run's share of a checkpoint tick (the checkpoint,
// its line, the state handed to the writer) on a run with a state file that has 10 or 4000
// checkpoints already: its cost must not grow with the run's length. The writer's goroutine
// is not running (its queue is emptied at each iteration), so that its own work, which does
// grow with the run (it writes the whole file), does not compete with the tick measured.
func BenchmarkSmokeCheckpointTick(b *testing.B) {
	for _, n := range []int{10, 4000} {
		b.Run(fmt.Sprintf("checkpoints=%d", n), func(b *testing.B) {
			r := longestRun(b, n)
			r.cfg.StateFile = filepath.Join(b.TempDir(), "smoke.state")
			s := &smokeState{names: []string{SeriesGoroutines}, log: zap.NewNop(), targets: r.rep.Targets}
			s.io = &smokeIO{log: s.log, wake: make(chan struct{}, 1)} // no goroutine
			s.mu.Lock()
			s.begin(r)
			s.mu.Unlock()
			cps, lines := len(r.rep.Checkpoints), len(r.rep.Lines)
			v := []float64{123500}
			in := smokeInput{now: r.dueAt(n + 1), fig: smokeFigures{goroutines: 123500, fds: 65001, fdsOK: true}, values: v,
				snapshot: func() Snapshot { return Snapshot{} }}
			s.step(&in) // the first save after begin hands the whole run over
			b.ReportAllocs()
			for b.Loop() {
				s.mu.Lock()
				r.rep.Checkpoints, r.rep.Lines, r.next = r.rep.Checkpoints[:cps], r.rep.Lines[:lines], n
				s.mu.Unlock()
				s.step(&in)
				s.io.mu.Lock()
				s.io.deltas = s.io.deltas[:0]
				s.io.mu.Unlock()
			}
			if len(r.rep.Checkpoints) != n+1 || r.sentCPs != n+1 {
				b.Fatalf("%d checkpoints, want %d", len(r.rep.Checkpoints), n+1)
			}
		})
	}
}
