package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/leakwatch/leakwatch/watchdog"
)

// TickCost waits until the running watchdog w has taken n more ticks on its own sampling
// goroutine and returns what those ticks cost: Ticks and Total count only them and Mean is their
// quotient, while Last and Max are w's as of the end. A tick's cost is wall time on the sampling
// goroutine, which for a tick that never blocks is its CPU time. It is the way to time a tick
// from outside the watchdog package: start w with a short Interval (such as 200µs, see
// [ScaledConfig]) to collect many ticks quickly; each tick then finds the caches as cold as a
// watchdog at work does.
//
// It waits about n × Interval, polling w.Snapshot (which allocates) after n × Interval and then
// after the time the missing ticks should take (at least 1ms). It returns ctx's error if ctx ends first, and an error if w stops first. Safe
// for concurrent use.
func TickCost(ctx context.Context, w *watchdog.Watchdog, n uint64) (watchdog.Cost, error) {
	s := w.Snapshot()
	c0 := s.Cost
	delta := func() watchdog.Cost {
		c := w.Snapshot().Cost
		c.Ticks -= c0.Ticks
		c.Total -= c0.Total
		c.Mean = 0
		if c.Ticks > 0 {
			c.Mean = c.Total / time.Duration(c.Ticks)
		}
		return c
	}
	t := time.NewTimer(time.Duration(n) * s.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return delta(), fmt.Errorf("bench: %w", ctx.Err())
		case <-w.Done():
			return delta(), fmt.Errorf("bench: watchdog stopped")
		case <-t.C:
		}
		c := delta()
		if c.Ticks >= n {
			return c, nil
		}
		t.Reset(max(time.Duration(n-c.Ticks)*s.Interval, time.Millisecond))
	}
}

// ScaledConfig returns DefaultConfig with every time constant scaled so that interval plays the
// part of the default one second: Window is 300 × interval, as the default 5 minutes are 300
// samples. Warmup is 1 ns (zero would be the default), so every tick runs the detector as a watchdog past its warm-up does.
func ScaledConfig(interval time.Duration) watchdog.Config {
	c := watchdog.DefaultConfig()
	c.Interval = interval
	c.Window = 300 * interval
	c.Warmup = time.Nanosecond
	c.StallAfter = time.Hour
	return c
}
