package watchdog

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestStartStopIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := Start(t.Context(), fastConfig())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if err := w.Stop(); err != nil {
					t.Errorf("Stop() = %v", err)
				}
			})
		}
		wg.Wait()
		s := w.Snapshot()
		if s.Running {
			t.Error("Snapshot().Running = true after Stop")
		}
		if s.Cost.Ticks < 10 || s.Cost.Ticks > 12 {
			t.Errorf("ticks after 1s at 100ms = %d, want 10..12", s.Cost.Ticks)
		}
		if got := series(t, s, SeriesGoroutines); !got.Valid || got.Value < 1 {
			t.Errorf("goroutines = %+v, want a valid count", got)
		}
	})
}

func TestContextCancelStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		w, err := Start(ctx, fastConfig())
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		<-w.Done()
		if w.Snapshot().Running {
			t.Error("Running after cancel")
		}
		if err := w.Stop(); err != nil {
			t.Errorf("Stop after cancel = %v", err)
		}
	})
}

func TestProbesSeeGoroutinesAndFDs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("fds are Linux only")
	}
	synctest.Test(t, func(t *testing.T) {
		w, err := Start(t.Context(), fastConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(150 * time.Millisecond)
		before := w.Snapshot()

		const n = 37
		stop := make(chan struct{})
		var parked sync.WaitGroup
		for range n {
			parked.Go(func() { <-stop })
		}
		dir := t.TempDir()
		var files []*os.File
		for i := range n {
			f, err := os.Create(filepath.Join(dir, string(rune('a'+i%26))+string(rune('a'+i/26))))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		time.Sleep(200 * time.Millisecond)
		after := w.Snapshot()
		for _, c := range []struct{ name string }{{SeriesGoroutines}, {SeriesFDs}} {
			b, a := series(t, before, c.name), series(t, after, c.name)
			if got := a.Value - b.Value; got != n {
				t.Errorf("%s grew by %v, want %d (before %v, after %v)", c.name, got, n, b.Value, a.Value)
			}
		}
		lim := series(t, after, SeriesFDLimit)
		if !lim.Valid || lim.Value < float64(n) {
			t.Errorf("fd_limit = %+v", lim)
		}
		if fds := series(t, after, SeriesFDs); fds.Limit != lim.Value {
			t.Errorf("fds limit = %v, want fd_limit %v", fds.Limit, lim.Value)
		}
		for _, name := range []string{SeriesThreads, SeriesHeapBytes, SeriesRSSBytes, SeriesGoroutinesCreated} {
			s := series(t, after, name)
			if !runtimeReads(name) {
				if s.Valid {
					t.Errorf("%s = %+v, want unread: this runtime lacks its metric", name, s)
				}
				continue
			}
			if !s.Valid || s.Value <= 0 {
				t.Errorf("%s = %+v, want a positive value", name, s)
			}
		}
		close(stop)
		parked.Wait()
		for _, f := range files {
			f.Close()
		}
	})
}

func TestLeakRaisesAlertAndResolves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		core, logs := observer.New(zapcore.InfoLevel)
		var mu sync.Mutex
		var got []Alert
		c := fastConfig()
		c.Attribution.Disabled = true
		var leak atomic.Int64
		c.Rules["open_streams"] = Rule{NoticePerMin: 100, WarningPerMin: 200, CriticalPerMin: 500}
		w, err := Start(t.Context(), c, WithLogger(zap.New(core)),
			WithGauge("open_streams", func() float64 { return float64(leak.Load()) }),
			OnAlert(func(a Alert) {
				if a.Series == "open_streams" {
					mu.Lock()
					got = append(got, a)
					mu.Unlock()
				}
			}))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		// 5 per tick at 10 ticks/s = 3000/min: critical. Then flat: resolves.
		for range 100 {
			leak.Add(5)
			time.Sleep(c.Interval)
		}
		for range 150 {
			time.Sleep(c.Interval)
		}
		w.Stop()
		mu.Lock()
		defer mu.Unlock()
		var top Level
		for _, a := range got {
			top = max(top, a.Level)
		}
		if top != LevelCritical {
			t.Errorf("highest level = %v, want critical; alerts: %v", top, got)
		}
		if len(got) == 0 || got[len(got)-1].Level != LevelOK {
			t.Errorf("last alert should resolve to ok; alerts: %v", got)
		}
		if n := logs.FilterMessage("alert").FilterLevelExact(zapcore.ErrorLevel).Len(); n == 0 {
			t.Error("no critical alert logged at Error level")
		}
		if n := logs.FilterMessage("alert").FilterField(zap.String("series", "open_streams")).Len(); n != len(got) {
			t.Errorf("logged %d alerts, handlers got %d", n, len(got))
		}
	})
}

func TestHostileHooksNeverDelaySampling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Attribution.Disabled = true
		c.AlertQueue = 2
		c.Rules["slow"] = Rule{OnIncrease: LevelWarning}
		release := make(chan struct{})
		var n atomic.Int64
		w, err := Start(t.Context(), c,
			WithGauge("panics", func() float64 { panic("boom") }),
			WithGauge("slow", func() float64 { return float64(n.Add(1)) }),
			WithGauge("blocks", func() float64 { <-release; return 1 }),
			OnAlert(func(Alert) { panic("handler boom") }),
			OnAlert(func(Alert) { <-release }))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		s := w.Snapshot()
		if s.Cost.Ticks < 20 {
			t.Errorf("ticks = %d in 2s at 100ms: hooks delayed sampling", s.Cost.Ticks)
		}
		if s.GaugePanics == 0 || s.GaugeStalls == 0 {
			t.Errorf("gauge panics %d stalls %d, want both > 0", s.GaugePanics, s.GaugeStalls)
		}
		if b := series(t, s, "blocks"); b.Errors == 0 || b.Valid {
			t.Errorf("blocking gauge = %+v, want errors and no value", b)
		}
		close(release)
		if err := w.Stop(); err != nil {
			t.Errorf("Stop() = %v", err)
		}
		s = w.Snapshot()
		if s.HandlerPanics == 0 {
			t.Errorf("handler panics = 0, want > 0")
		}
	})
}

func TestHistoryIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.HistorySize = 16
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		w.Stop()
		h := w.History(SeriesGoroutines)
		if len(h) != 16 {
			t.Fatalf("len(History) = %d, want 16", len(h))
		}
		for i := 1; i < len(h); i++ {
			if !h[i].Time.After(h[i-1].Time) {
				t.Fatalf("history not in time order at %d: %v then %v", i, h[i-1].Time, h[i].Time)
			}
		}
		if w.History("nope") != nil {
			t.Error("History of an unknown series is not nil")
		}
	})
}
