package watchdog

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
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
	before := goleak.IgnoreCurrent() // the goroutines that exist now, by identity
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
	// Every goroutine alive now must have been alive before the cycles. This compares
	// goroutines by identity, not by count: one of an earlier test that ends meanwhile must not
	// hide one of ours (goleak retries while goroutines are still exiting).
	if err := goleak.Find(before); err != nil {
		t.Errorf("after %d cycles: %v", cycles, err)
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
		ticks := s.Cost.Ticks
		close(release)
		time.Sleep(2 * c.Interval)
		s = w.Snapshot()
		if s.Stalled {
			t.Error("still stalled after the sink was released")
		}
		// The Intervals missed while wedged are dropped, not made up in a burst: the wedged
		// tick completes, then at most one sample per Interval.
		if got := s.Cost.Ticks - ticks; got < 2 || got > 3 {
			t.Errorf("%d ticks in the 2 Intervals after the release, want 2 or 3 (no burst of missed ones)", got)
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

// TestStopDuringBlockedHandler stops the watchdog while an alert handler blocks forever: Stop
// returns after its grace period with an error saying so, instead of hanging.
func TestStopDuringBlockedHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Attribution.Disabled = true
		c.Rules["errs"] = Rule{OnIncrease: LevelWarning}
		var n atomic.Int64
		release := make(chan struct{})
		entered := make(chan struct{}, 1)
		w, err := Start(t.Context(), c,
			WithGauge("errs", func() float64 { return float64(n.Add(1)) }),
			OnAlert(func(Alert) {
				select {
				case entered <- struct{}{}:
				default:
				}
				<-release
			}))
		if err != nil {
			t.Fatal(err)
		}
		<-entered // a handler is blocked now
		err = w.Stop()
		if err == nil || !strings.Contains(err.Error(), "alert handler did not return") {
			t.Errorf("Stop() = %v, want the blocked handler reported", err)
		}
		if w.Snapshot().Running {
			t.Error("still running after Stop")
		}
		close(release) // let the handler's goroutine end before the bubble does
		time.Sleep(time.Millisecond)
	})
}

// TestAttributionCooldown: cooldowns are per series. A warning on a takes a snapshot; a
// critical alert on b a second later takes its own; a second warning on a within a's cooldown
// takes none, and its evidence says why, naming the alert that has a's snapshot.
func TestAttributionCooldown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = 200 * time.Millisecond
		c.Attribution.Cooldown = time.Hour
		c.Rules["a"] = Rule{OnIncrease: LevelWarning}
		c.Rules["b"] = Rule{OnIncrease: LevelCritical}
		var a, b atomic.Int64
		var mu sync.Mutex
		var got []Alert
		w, err := Start(t.Context(), c,
			WithGauge("a", func() float64 { return float64(a.Load()) }),
			WithGauge("b", func() float64 { return float64(b.Load()) }),
			OnAlert(func(al Alert) {
				if al.Series != "a" && al.Series != "b" {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				got = append(got, al)
			}))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		a.Add(1) // warning on a: a snapshot
		time.Sleep(time.Second)
		b.Add(1) // critical on b, within a's cooldown: b's own snapshot
		time.Sleep(4 * time.Second)
		a.Add(1) // a is back at ok (no increase for a Window): warning again, within a's cooldown
		time.Sleep(time.Second)
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		var raised []Alert
		for _, al := range got {
			if al.Level >= LevelWarning {
				raised = append(raised, al)
			}
		}
		if len(raised) != 3 {
			t.Fatalf("got %d warning or critical alerts, want 3: %v", len(raised), got)
		}
		for i, al := range raised {
			if al.Evidence == nil || al.Evidence.AlertID != al.ID || al.Evidence.Series != al.Series {
				t.Fatalf("alert %d (%v) has evidence %+v, want evidence for its own ID and series", i, al, al.Evidence)
			}
		}
		if e := raised[0].Evidence; e.Skipped != "" || e.Report == nil {
			t.Errorf("first warning on a: evidence %v, want a snapshot", e)
		}
		if e := raised[1].Evidence; raised[1].Series != "b" || e.Skipped != "" || e.Report == nil {
			t.Errorf("alert on b: %v with evidence %v, want b's own snapshot", raised[1], e)
		}
		e := raised[2].Evidence
		if raised[2].Series != "a" || e.Report != nil || !strings.Contains(e.Skipped, "cooldown") ||
			!strings.Contains(e.Skipped, fmt.Sprintf("alert %d", raised[0].ID)) {
			t.Errorf("second warning on a: %v with evidence %+v, want none, skipped for the cooldown naming alert %d", raised[2], e, raised[0].ID)
		}
		if s := w.Snapshot(); s.Attributions != 2 {
			t.Errorf("Snapshot().Attributions = %d, want 2", s.Attributions)
		}
	})
}
