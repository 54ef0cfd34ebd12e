package bench

import (
	"context"
	"flag"
	"runtime"
	"runtime/metrics"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leakwatch/leakwatch/watchdog"
)

var (
	weekDays     = flag.Int("week.days", 7, "TestWeekOfSamples: simulated days of samples")
	weekInterval = flag.Duration("week.interval", time.Second, "TestWeekOfSamples: sampling interval")
)

// maxHeapGrowth is how much the heap may grow between the end of day 1 and the last day.
const maxHeapGrowth = 64 << 10

// TestWeekOfSamples runs a watchdog at its defaults for a simulated week of one-second samples
// (604 800 ticks) inside a testing/synctest bubble, where time.Sleep advances the fake clock at
// once, and checks that the heap in use (/memory/classes/heap/objects:bytes after a GC) is flat
// between day 1 and the last day. -short, and the race detector, take one day at a 10 s
// interval then.
func TestWeekOfSamples(t *testing.T) {
	days, interval := *weekDays, *weekInterval
	if testing.Short() || raceEnabled {
		days, interval = 2, 10*time.Second
	}
	ticksPerDay := int(24 * time.Hour / interval)
	wall := time.Now()
	defer func() { t.Logf("real time: %v", time.Since(wall)) }()
	synctest.Test(t, func(t *testing.T) {
		cfg := watchdog.DefaultConfig()
		cfg.Interval = interval
		w, err := watchdog.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		heap := make([]uint64, days+1) // heap[d]: after day d; heap[0] after the first tick
		synctest.Wait()
		heap[0] = heapInUse()
		begin := time.Now() // fake time
		for d := 1; d <= days; d++ {
			for range ticksPerDay {
				time.Sleep(interval)
				synctest.Wait()
			}
			heap[d] = heapInUse()
			t.Logf("day %d: %d ticks, heap in use %d B (%+d B since day 1)", d, w.Snapshot().Cost.Ticks,
				heap[d], int64(heap[d])-int64(heap[1]))
		}
		// Each tick falls at a random instant of its Interval (Config.Jitter): the one due at
		// the end of the last day is taken within the next Interval.
		time.Sleep(interval)
		synctest.Wait()
		s := w.Snapshot()
		t.Logf("%d ticks at %v over %v of fake time: heap %d B after the first tick, %d B after day 1, %d B after day %d",
			s.Cost.Ticks, interval, time.Since(begin), heap[0], heap[1], heap[days], days)
		if want := uint64(days*ticksPerDay + 1); s.Cost.Ticks != want {
			t.Errorf("ticks = %d, want %d", s.Cost.Ticks, want)
		}
		if grew := int64(heap[days]) - int64(heap[1]); grew > maxHeapGrowth {
			t.Errorf("heap grew by %d B between day 1 and day %d, want <= %d B", grew, days, maxHeapGrowth)
		}
	})
}

// heapInUse returns the bytes of live heap objects after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
