package bench_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/leakwatch/leakwatch/bench"
	"github.com/leakwatch/leakwatch/watchdog"
)

// A configuration in which 200µs plays the part of the default second: a window is still 300
// samples, and the detector runs from the first tick.
func ExampleScaledConfig() {
	c := bench.ScaledConfig(200 * time.Microsecond)
	fmt.Println(c.Interval, c.Window, c.Warmup)
	// Output: 200µs 60ms 1ns
}

// Timing a running watchdog's ticks from outside package watchdog: what 100 ticks on its own
// sampling goroutine cost. (The figures depend on the machine; only their presence is printed.)
func ExampleTickCost() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := watchdog.Start(ctx, bench.ScaledConfig(200*time.Microsecond))
	if err != nil {
		log.Fatal(err)
	}
	defer w.Stop()
	c, err := bench.TickCost(ctx, w, 100)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Ticks >= 100, c.Mean > 0, c.Max >= c.Mean)
	// Output: true true true
}
