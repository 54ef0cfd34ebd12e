package watchdog

import (
	"context"
	"testing"
)

// benchWatchdog returns a started watchdog whose sampling goroutine never ticks on its own
// (hour-long interval), so the benchmark can drive tick directly.
func benchWatchdog(b *testing.B) *Watchdog {
	b.Helper()
	c := DefaultConfig()
	c.Interval = 1e12
	c.Window = 3e12
	w, err := Start(context.Background(), c)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Stop() })
	return w
}

// BenchmarkTick is one full tick of the default probes: runtime metrics, goroutines, FDs,
// their limit, RSS, the detector over every series, history and snapshot state.
func BenchmarkTick(b *testing.B) {
	w := benchWatchdog(b)
	b.ReportAllocs()
	for b.Loop() {
		w.tick()
	}
}
