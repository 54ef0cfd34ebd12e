package watchdog

import (
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// panicClock is the bubble's clock whose Now panics while panics is above zero.
type panicClock struct{ panics atomic.Int32 }

func (c *panicClock) Now() time.Time {
	if c.panics.Add(-1) >= 0 {
		panic("hostile clock")
	}
	return time.Now()
}
func (c *panicClock) NewTicker(d time.Duration) Ticker { return systemClock{}.NewTicker(d) }

// TestTickPanicRecovered: a tick that panics (here a hostile Clock) loses its sample, is
// counted and logged with its stack, and sampling goes on.
func TestTickPanicRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		core, logs := observer.New(zap.ErrorLevel)
		clk := &panicClock{}
		w, err := Start(t.Context(), fastConfig(), WithClock(clk), WithLogger(zap.New(core)))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		before := w.Snapshot().Cost.Ticks
		clk.panics.Store(3) // the next three ticks panic
		time.Sleep(5 * time.Second)
		synctest.Wait()
		s := w.Snapshot()
		if s.TickPanics != 3 {
			t.Errorf("TickPanics = %d, want 3", s.TickPanics)
		}
		if s.Cost.Ticks <= before+1 {
			t.Errorf("ticks %d -> %d: sampling did not go on after the panics", before, s.Cost.Ticks)
		}
		got := logs.FilterMessageSnippet("tick panicked").All()
		if len(got) != 3 || !strings.Contains(got[0].ContextMap()["stack"].(string), "panicClock") {
			t.Errorf("logs = %v, want 3 records with the stack", got)
		}
	})
}

// TestTickPanicReleasesLock: a panic while the tick holds the watchdog's lock leaves it
// released: Snapshot, History and Stop still answer, and sampling goes on.
func TestTickPanicReleasesLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		testHookPublish = func() {
			if n.Add(1) == 2 {
				panic("fault with the lock held")
			}
		}
		defer func() { testHookPublish = nil }()
		w, err := Start(t.Context(), fastConfig())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(4 * time.Second)
		synctest.Wait()
		s := w.Snapshot() // hangs if the lock is still held
		if s.TickPanics != 1 || s.Cost.Ticks < 3 {
			t.Errorf("TickPanics %d, ticks %d; want 1 and sampling going on", s.TickPanics, s.Cost.Ticks)
		}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// panicCore is a zap core whose Write panics.
type panicCore struct{ zapcore.LevelEnabler }

func (c panicCore) With([]zapcore.Field) zapcore.Core { return c }
func (c panicCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}
func (panicCore) Write(zapcore.Entry, []zapcore.Field) error { panic("hostile logger") }
func (panicCore) Sync() error                                { panic("hostile logger") }

// TestPanickingLoggerSurvived: a logger core that panics on every record (logged from the
// sampling goroutine, the attribution goroutine and Stop) loses its records, counted, and
// neither the host nor sampling nor Stop notice.
func TestPanickingLoggerSurvived(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := Start(t.Context(), fastConfig(), WithLogger(zap.New(panicCore{zapcore.DebugLevel})),
			WithGauge("bad", func() float64 { return 0 * zeroDiv() })) // NaN: a probe error, logged by the tick
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		s := w.Snapshot()
		if s.LogPanics == 0 || s.Cost.Ticks < 5 || s.TickPanics != 0 {
			t.Errorf("LogPanics %d, ticks %d, TickPanics %d; want records lost, counted, and sampling going on", s.LogPanics, s.Cost.Ticks, s.TickPanics)
		}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
	})
}

var zeroF float64

func zeroDiv() float64 { return 1 / zeroF } // +Inf; 0 x +Inf is NaN
