package watchdog_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/watchdog"
)

// manualClock is a clock whose ticker fires when Advance is called.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
	c   chan time.Time
}

func (m *manualClock) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *manualClock) NewTicker(time.Duration) watchdog.Ticker { return m }
func (m *manualClock) C() <-chan time.Time                     { return m.c }
func (m *manualClock) Stop()                                   {}

func (m *manualClock) Advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	t := m.now
	m.mu.Unlock()
	m.c <- t
}

// A four-second smoke run with a checkpoint every second, driven by a manual clock so that the
// example runs at once. A real service sets Config.Smoke (or calls StartSmoke) with the seed's
// 30 minutes and 2-minute checkpoints and lets the system clock run.
func ExampleWatchdog_StartSmoke() {
	clk := &manualClock{now: time.Date(2025, 11, 7, 12, 11, 19, 0, time.FixedZone("-03", -3*3600)), c: make(chan time.Time)}
	cfg := watchdog.DefaultConfig()
	cfg.Attribution.Disabled = true
	w, err := watchdog.Start(context.Background(), cfg, watchdog.WithClock(clk))
	if err != nil {
		panic(err)
	}
	// waitTicks waits until the watchdog has finished its nth tick (the first is at Start).
	waitTicks := func(n uint64) {
		for w.Snapshot().Cost.Ticks < n {
			time.Sleep(time.Millisecond)
		}
	}
	waitTicks(1)
	if err := w.StartSmoke(watchdog.SmokeConfig{Duration: 4 * time.Second, Checkpoint: time.Second}); err != nil {
		panic(err)
	}
	for i := range 5 { // the baseline, then four checkpoints
		clk.Advance(time.Second)
		waitTicks(uint64(i) + 2)
	}
	w.Stop()

	rep := w.SmokeReport()
	fmt.Println(rep.Lines[0])
	fmt.Println(rep.Lines[1])
	fmt.Println(rep.Lines[len(rep.Lines)-1])
	fmt.Println(rep.Status, rep.Verdict, len(rep.Checkpoints), "checkpoints")
	for _, c := range rep.Criteria {
		if c.Must {
			fmt.Printf("must %s: passed %v\n", c.Name, c.Passed)
		}
	}
	// Output:
	// === Connection Pool Smoke Test (4s) ===
	// Start: Fri Nov  7 12:11:19 -03 2025
	// Complete: Fri Nov  7 12:11:24 -03 2025
	// passed PASS 4 checkpoints
	// must Test completes full 4s: passed true
	// must Goroutine leak rate <10/min: passed true
	// must FD leak rate <5/min: passed true
	// must Zero restarts: passed true
	// must HTTP metrics available throughout: passed true
}

// SmokeReport is safe to call at any time: before a run it reports status none.
func ExampleWatchdog_SmokeReport() {
	clk := &manualClock{now: time.Date(2025, 11, 7, 12, 11, 19, 0, time.UTC), c: make(chan time.Time)}
	w, err := watchdog.Start(context.Background(), watchdog.DefaultConfig(), watchdog.WithClock(clk))
	if err != nil {
		panic(err)
	}
	defer w.Stop()
	rep := w.SmokeReport()
	fmt.Printf("status %q, verdict %q, stalled %v\n", rep.Status, rep.Verdict, rep.Stalled)
	// Output:
	// status "none", verdict "", stalled false
}
