package watchdog

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	"go.uber.org/zap/zaptest/observer"
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

// counter is a gauge whose value the test raises.
type counter struct{ n atomic.Int64 }

func (c *counter) get() float64 { return float64(c.n.Load()) }

// TestBlockedHandlerDoesNotSilence: a handler that blocks forever holds up only itself. Later
// alerts still get their evidence, in the log and in the snapshot, and a second handler still
// gets every alert.
func TestBlockedHandlerDoesNotSilence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Attribution.Cooldown = 0
		gs := []string{"a", "b", "c"}
		var cs [3]counter
		var opts []Option
		for i, g := range gs {
			c.Rules[g] = Rule{OnIncrease: LevelWarning}
			opts = append(opts, WithGauge(g, cs[i].get))
		}
		release := make(chan struct{})
		var mu sync.Mutex
		other := map[string]bool{}
		core, logs := observer.New(zapcore.InfoLevel)
		opts = append(opts, WithLogger(zap.New(core)),
			OnAlert(func(Alert) { <-release }),
			OnAlert(func(a Alert) {
				mu.Lock()
				defer mu.Unlock()
				if a.Level == LevelWarning {
					other[a.Series] = true
				}
			}))
		w, err := Start(t.Context(), c, opts...)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		for i := range gs {
			cs[i].n.Add(1)
			time.Sleep(time.Second)
		}
		logged := map[string]bool{}
		for _, e := range logs.FilterMessage("attribution").All() {
			logged[e.ContextMap()["series"].(string)] = true
		}
		withEvidence := map[string]bool{}
		for _, a := range w.Snapshot().Alerts {
			if a.Level == LevelWarning && a.Evidence != nil {
				withEvidence[a.Series] = true
			}
		}
		mu.Lock()
		for _, g := range gs {
			if !logged[g] || !withEvidence[g] || !other[g] {
				t.Errorf("series %s: evidence logged %v, in the snapshot %v, second handler called %v; want all three with the first handler blocked",
					g, logged[g], withEvidence[g], other[g])
			}
		}
		mu.Unlock()
		close(release)
		if err := w.Stop(); err != nil {
			t.Error(err)
		}
	})
}

// fdCount is the process's descriptor count (Linux), or skips the test.
func fdCount(t *testing.T) float64 {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("descriptor counts need Linux")
	}
	n, err := procFDs()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func procFDs() (float64, error) {
	p := newOSProbe("")
	defer p.close()
	return p.fds()
}

// TestStopInsideHandler: a handler that stops the watchdog gets nil at once, not an error after
// the 5 s grace, and the watchdog's descriptors are released.
func TestStopInsideHandler(t *testing.T) {
	fds0 := fdCount(t)
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Rules["errs"] = Rule{OnIncrease: LevelWarning}
		var n counter
		var wp atomic.Pointer[Watchdog]
		type result struct {
			err  error
			took time.Duration
			fds  float64
		}
		res := make(chan result, 1)
		w, err := Start(t.Context(), c, WithGauge("errs", n.get), OnAlert(func(Alert) {
			w := wp.Load()
			if w == nil {
				return
			}
			select {
			case <-w.Done():
				return
			default:
			}
			begin := time.Now()
			err := w.Stop()
			fds, _ := procFDs()
			res <- result{err, time.Since(begin), fds}
		}))
		if err != nil {
			t.Fatal(err)
		}
		wp.Store(w)
		time.Sleep(time.Second)
		n.n.Add(1)
		r := <-res
		if r.err != nil || r.took >= time.Second {
			t.Errorf("Stop inside a handler = %v after %v; want nil at once", r.err, r.took)
		}
		if r.fds != fds0 {
			t.Errorf("open fds after Stop inside a handler = %v, before Start %v", r.fds, fds0)
		}
		if err := w.Stop(); err != nil {
			t.Errorf("second Stop = %v", err)
		}
	})
}

// TestStopWithHandlerRunningReleasesDescriptors: Stop while a handler is still running leaves
// that handler behind but releases every descriptor, cycle after cycle.
func TestStopWithHandlerRunningReleasesDescriptors(t *testing.T) {
	fds0 := fdCount(t)
	for cycle := range 3 {
		synctest.Test(t, func(t *testing.T) {
			c := fastConfig()
			c.Rules["errs"] = Rule{OnIncrease: LevelWarning}
			var n counter
			release := make(chan struct{})
			entered := make(chan struct{}, 1)
			w, err := Start(t.Context(), c, WithGauge("errs", n.get), OnAlert(func(Alert) {
				select {
				case entered <- struct{}{}:
				default:
				}
				<-release
			}))
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			n.n.Add(1)
			<-entered
			if err := w.Stop(); err == nil {
				t.Error("Stop = nil with a handler blocked, want it reported")
			}
			if fds := fdCount(t); fds != fds0 {
				t.Errorf("cycle %d: open fds after Stop = %v, before Start %v", cycle, fds, fds0)
			}
			close(release)
		})
	}
}

// TestStopBound: a gauge and a handler that both block share one 5 s grace: Stop returns within
// 5 s, naming both.
func TestStopBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Attribution.Disabled = true
		c.Rules["errs"] = Rule{OnIncrease: LevelWarning}
		var n counter
		release := make(chan struct{})
		entered := make(chan struct{}, 1)
		w, err := Start(t.Context(), c, WithGauge("errs", n.get),
			WithGauge("stuck", func() float64 {
				if n.n.Load() > 0 {
					<-release
				}
				return 0
			}),
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
		time.Sleep(time.Second)
		n.n.Add(1)
		<-entered
		time.Sleep(time.Second) // the gauge is blocked too by now
		begin := time.Now()
		err = w.Stop()
		if took := time.Since(begin); took > hookGrace {
			t.Errorf("Stop took %v, want at most %v", took, hookGrace)
		}
		if err == nil || !strings.Contains(err.Error(), "alert handler did not return") || !strings.Contains(err.Error(), "gauge did not return") {
			t.Errorf("Stop() = %v, want the handler and the gauge reported", err)
		}
		close(release)
		time.Sleep(time.Millisecond)
	})
}

// stoppingCore is a zap core that calls Stop on the first alert line: a logger that stops the
// watchdog from the sampling goroutine.
type stoppingCore struct {
	zapcore.LevelEnabler
	w   *atomic.Pointer[Watchdog]
	err chan error
}

func (c stoppingCore) With([]zapcore.Field) zapcore.Core { return c }
func (c stoppingCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}
func (c stoppingCore) Write(e zapcore.Entry, _ []zapcore.Field) error {
	if w := c.w.Load(); w != nil && e.Message == "alert" {
		select {
		case c.err <- w.Stop():
		default:
		}
	}
	return nil
}
func (c stoppingCore) Sync() error { return nil }

// TestStopFromSamplingGoroutine: Stop called by the logger, on the sampling goroutine, returns
// at once instead of waiting for itself, and the watchdog stops.
func TestStopFromSamplingGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Attribution.Disabled = true
		c.Rules["errs"] = Rule{OnIncrease: LevelWarning}
		var n counter
		var wp atomic.Pointer[Watchdog]
		errc := make(chan error, 1)
		w, err := Start(t.Context(), c, WithGauge("errs", n.get),
			WithLogger(zap.New(stoppingCore{zapcore.InfoLevel, &wp, errc})))
		if err != nil {
			t.Fatal(err)
		}
		wp.Store(w)
		time.Sleep(time.Second)
		n.n.Add(1)
		begin := time.Now()
		if err := <-errc; err != nil {
			t.Errorf("Stop on the sampling goroutine = %v, want nil", err)
		}
		<-w.Done()
		if took := time.Since(begin); took >= time.Second {
			t.Errorf("stopping took %v, want at once", took)
		}
	})
}

// TestNonFiniteGauge: a gauge that returns +Inf, -Inf and NaN among finite values. Those
// readings count as unread (an error on the series); the snapshot and GET /watchdog still
// encode, and the recording holds no infinity and replays.
func TestNonFiniteGauge(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "rec.csv")
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Attribution.Disabled = true
		c.Record.Path = rec
		c.Rules["g"] = Rule{OnIncrease: LevelWarning}
		seq := []float64{1, math.Inf(1), math.Inf(-1), math.NaN(), 2}
		var k atomic.Int64
		w, err := Start(t.Context(), c, WithGauge("g", func() float64 { return seq[int(k.Add(1)-1)%len(seq)] }))
		if err != nil {
			t.Fatal(err)
		}
		var sawValid, sawInvalid bool
		for range 30 {
			time.Sleep(c.Interval)
			s := w.Snapshot()
			if _, err := json.Marshal(s); err != nil {
				t.Fatalf("Snapshot does not encode: %v", err)
			}
			g := series(t, s, "g")
			if g.Valid {
				sawValid = true
				if g.Value != 1 && g.Value != 2 {
					t.Errorf("g valid with value %v", g.Value)
				}
			} else {
				sawInvalid = true
			}
		}
		resp := httptest.NewRecorder()
		w.Handler(HandlerOptions{}).ServeHTTP(resp, httptest.NewRequest("GET", "/watchdog", nil))
		if resp.Code != 200 || !json.Valid(resp.Body.Bytes()) {
			t.Errorf("GET /watchdog = %d %.200s, want 200 and JSON", resp.Code, resp.Body.String())
		}
		s := w.Snapshot()
		if g := series(t, s, "g"); !sawValid || !sawInvalid || g.Errors == 0 {
			t.Errorf("g: valid seen %v, invalid seen %v, errors %d; want both and errors counted", sawValid, sawInvalid, g.Errors)
		}
		for _, p := range w.History("g") {
			if math.IsInf(p.Value, 0) {
				t.Fatalf("history holds %v", p.Value)
			}
		}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
	})
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Inf") {
		t.Errorf("the recording holds an infinity:\n%.500s", b)
	}
	if err := Replay(strings.NewReader(string(b)), DefaultConfig(), func(Alert) {}); err != nil {
		t.Errorf("the recording does not replay: %v", err)
	}
}

// TestStopWithWedgedSampler: a logger that blocks holds the sampling goroutine inside a tick.
// Stop does not hang with it: it returns an error at its 5 s bound, and the watchdog releases
// its resources once the logger lets go.
func TestStopWithWedgedSampler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		c := fastConfig()
		c.Attribution.Disabled = true
		c.Rules["errs"] = Rule{OnIncrease: LevelWarning}
		var n counter
		w, err := Start(t.Context(), c, WithGauge("errs", n.get),
			WithLogger(zap.New(blockingCore{zapcore.InfoLevel, release})))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		n.n.Add(1) // the alert's log line blocks
		time.Sleep(time.Second)
		begin := time.Now()
		err = w.Stop()
		if took := time.Since(begin); took > hookGrace {
			t.Errorf("Stop took %v, want at most %v", took, hookGrace)
		}
		if err == nil || !strings.Contains(err.Error(), "sampling goroutine did not stop") {
			t.Errorf("Stop() = %v, want the wedged sampler reported", err)
		}
		close(release)
		<-w.Done()
		if w.Snapshot().Running {
			t.Error("running after the sampler got free")
		}
	})
}

// TestStopInsideGauge: a gauge that stops the watchdog is not waited for.
func TestStopInsideGauge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Attribution.Disabled = true
		var wp atomic.Pointer[Watchdog]
		type result struct {
			err  error
			took time.Duration
		}
		res := make(chan result, 1)
		var once sync.Once
		w, err := Start(t.Context(), c, WithGauge("g", func() float64 {
			if w := wp.Load(); w != nil {
				once.Do(func() {
					begin := time.Now()
					err := w.Stop()
					res <- result{err, time.Since(begin)}
				})
			}
			return 1
		}))
		if err != nil {
			t.Fatal(err)
		}
		wp.Store(w)
		r := <-res
		if r.err != nil || r.took >= time.Second {
			t.Errorf("Stop inside a gauge = %v after %v; want nil at once", r.err, r.took)
		}
		<-w.Done()
	})
}
