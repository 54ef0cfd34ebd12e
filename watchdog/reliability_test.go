package watchdog

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// TestStartStopCyclesLeaveNothing starts and stops the watchdog many times, with a gauge and a
// handler (so every goroutine kind is started), and requires the goroutine and descriptor
// counts to come back to where they were.
func TestStartStopCyclesLeaveNothing(t *testing.T) {
	cycles := 10000
	if testing.Short() {
		cycles = 500
	}
	p := newOSProbe("")
	defer p.close()
	fds0, _ := p.fds()
	g0 := runtime.NumGoroutine()
	c := DefaultConfig()
	for i := range cycles {
		w, err := Start(context.Background(), c,
			WithGauge("g", func() float64 { return 1 }), OnAlert(func(Alert) {}))
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			w.Snapshot()
		}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	if fds1, _ := p.fds(); runtime.GOOS == "linux" && fds1 != fds0 {
		t.Errorf("open fds after %d cycles = %v, before %v", cycles, fds1, fds0)
	}
	// Goroutines of earlier tests (and the runtime's) may still be finishing: let the count
	// settle for up to a second before comparing. A leak of ours would not settle.
	g1 := runtime.NumGoroutine()
	for deadline := time.Now().Add(time.Second); g1 != g0 && time.Now().Before(deadline); g1 = runtime.NumGoroutine() {
		time.Sleep(5 * time.Millisecond)
	}
	if g1 != g0 {
		t.Errorf("goroutines after %d cycles = %d, before %d", cycles, g1, g0)
	}
}

// blockingCore is a zap core whose Write blocks until released: a log sink that has wedged.
type blockingCore struct {
	zapcore.LevelEnabler
	release chan struct{}
}

func (c blockingCore) With([]zapcore.Field) zapcore.Core { return c }
func (c blockingCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}
func (c blockingCore) Write(e zapcore.Entry, _ []zapcore.Field) error {
	if e.Message == "alert" {
		<-c.release
	}
	return nil
}
func (c blockingCore) Sync() error { return nil }

// TestStalledHeartbeat wedges the sampling goroutine (its log sink blocks) and requires the
// snapshot to say so, then to recover once the sink is released.
func TestStalledHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		c := fastConfig()
		c.Attribution.Disabled = true
		c.Rules["errs"] = Rule{OnIncrease: LevelWarning}
		var mu sync.Mutex
		n := 0.0
		w, err := Start(t.Context(), c,
			WithLogger(zap.New(blockingCore{zapcore.InfoLevel, release})),
			WithGauge("errs", func() float64 { mu.Lock(); defer mu.Unlock(); return n }))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if s := w.Snapshot(); s.Stalled {
			t.Fatal("stalled before anything wedged")
		}
		mu.Lock()
		n = 1 // the next ticks raise an alert, whose log line blocks
		mu.Unlock()
		time.Sleep(c.StallAfter + 3*time.Second + 3*c.Interval)
		s := w.Snapshot()
		if !s.Stalled {
			t.Errorf("Stalled = false with the sampler wedged for %v (last tick %v, now %v)", s.Time.Sub(s.LastTick), s.LastTick, s.Time)
		}
		close(release)
		time.Sleep(2 * c.Interval)
		if s := w.Snapshot(); s.Stalled {
			t.Error("still stalled after the sink was released")
		}
		w.Stop()
	})
}

// TestConcurrentSnapshotsAndStop reads snapshots and histories from many goroutines while the
// watchdog ticks and while it stops (run with -race).
func TestConcurrentSnapshotsAndStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := Start(t.Context(), fastConfig(), OnAlert(func(Alert) {}))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 50 {
					w.Snapshot()
					w.History(SeriesGoroutines)
					time.Sleep(20 * time.Millisecond)
				}
			})
		}
		time.Sleep(500 * time.Millisecond)
		wg.Go(func() { w.Stop() })
		wg.Wait()
		if w.Snapshot().Running {
			t.Error("running after Stop")
		}
	})
}
