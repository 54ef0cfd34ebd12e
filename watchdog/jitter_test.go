package watchdog

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// burstyHost parks 10 goroutines from 50% to 70% of every period after its start, as a service
// whose poller runs on a ticker of the watchdog's own period, until stop is closed.
func burstyHost(period time.Duration, stop <-chan struct{}) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			time.Sleep(period / 2)
			release := make(chan struct{})
			var burst sync.WaitGroup
			for range 10 {
				burst.Go(func() { <-release })
			}
			time.Sleep(period / 5)
			close(release)
			burst.Wait()
			select {
			case <-stop:
				return
			default:
			}
			time.Sleep(period - period/2 - period/5)
		}
	})
	return wg.Wait
}

// TestJitterBreaksAliasing: a host busy 20% of every Interval, in phase with the watchdog's
// grid. Sampled on the grid (NoJitter) the burst is never seen; with the default Jitter it is
// seen in about 20% of the samples, its true duty cycle.
func TestJitterBreaksAliasing(t *testing.T) {
	const intervals = 500
	for _, tt := range []struct {
		jitter   float64
		min, max float64 // fraction of samples that see the burst
	}{
		{NoJitter, 0, 0},
		{1, 0.15, 0.25},
	} {
		synctest.Test(t, func(t *testing.T) {
			c := fastConfig()
			c.Jitter = tt.jitter
			c.HistorySize = intervals + 10
			c.Attribution.Disabled = true
			w, err := Start(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			base := w.History(SeriesGoroutines)[0].Value
			stop := make(chan struct{})
			wait := burstyHost(c.Interval, stop)
			time.Sleep(intervals * c.Interval)
			close(stop)
			wait()
			if err := w.Stop(); err != nil {
				t.Fatal(err)
			}
			pts := w.History(SeriesGoroutines)
			seen := 0
			for _, p := range pts {
				// Half the burst: the count is the process's, and goroutines of earlier tests may
				// still end meanwhile.
				if p.Value >= base+5 {
					seen++
				}
			}
			frac := float64(seen) / float64(len(pts))
			t.Logf("Jitter %v: %d samples, %d (%.1f%%) see the burst", tt.jitter, len(pts), seen, 100*frac)
			if frac < tt.min || frac > tt.max {
				t.Errorf("Jitter %v: %.3f of the samples see a burst present 20%% of the time, want [%v, %v]", tt.jitter, frac, tt.min, tt.max)
			}
		})
	}
}

// TestJitterKeepsTheRate: with the default Jitter, the first sample is taken at Start, each
// later one within its Interval (gaps in (0, 2 Intervals)), one per Interval on average.
func TestJitterKeepsTheRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const intervals = 300
		c := fastConfig()
		c.HistorySize = intervals + 10
		c.Attribution.Disabled = true
		start := time.Now()
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		// At intervals x Interval the last tick fires and waits its delay: stop half an Interval
		// later, before the tick after it.
		time.Sleep(intervals*c.Interval + c.Interval/2)
		synctest.Wait()
		pts := w.History(SeriesGoroutines)
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		if !pts[0].Time.Equal(start) {
			t.Errorf("first sample at %v after Start, want at Start", pts[0].Time.Sub(start))
		}
		if len(pts) < intervals || len(pts) > intervals+1 {
			t.Fatalf("%d samples over %d Intervals, want %d or %d", len(pts), intervals, intervals, intervals+1)
		}
		distinct := map[time.Duration]bool{}
		for k, p := range pts {
			due := start.Add(time.Duration(k) * c.Interval)
			if off := p.Time.Sub(due); off < 0 || off >= c.Interval {
				t.Errorf("sample %d at %v from its due time, want in [0, %v)", k, off, c.Interval)
			}
			distinct[p.Time.Sub(due)] = true
		}
		if len(distinct) < len(pts)*9/10 {
			t.Errorf("only %d distinct offsets among %d samples: the delays do not vary", len(distinct), len(pts))
		}
	})
}

// TestSmokeJitter: a smoke run with the default Jitter takes each checkpoint within an Interval
// of its due time and computes its rates over the time that really passed.
func TestSmokeJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := smokeConfig()
		c.Jitter = 1
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // after the baseline: 6 goroutines of growth
		stop := make(chan struct{})
		var parked sync.WaitGroup
		for range 6 {
			parked.Go(func() { <-stop })
		}
		time.Sleep(16 * time.Second)
		rep := w.SmokeReport()
		close(stop)
		parked.Wait()
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		if len(rep.Checkpoints) != 4 {
			t.Fatalf("%d checkpoints, want 4\n%s", len(rep.Checkpoints), rep.Text())
		}
		for i, cp := range rep.Checkpoints {
			due := time.Duration(i+1) * c.Smoke.Checkpoint
			if cp.Elapsed < due || cp.Elapsed >= due+c.Interval {
				t.Errorf("checkpoint %d at %v, want in [%v, %v)", cp.Index, cp.Elapsed, due, due+c.Interval)
			}
			// The count is the process's: goroutines of earlier tests may still end meanwhile,
			// so the growth is about 6, and the rate check below needs only that it is not 0.
			if cp.GoroutineGrowth < 3 {
				t.Errorf("checkpoint %d: growth %v, want about the 6 goroutines parked after the baseline", cp.Index, cp.GoroutineGrowth)
			}
			if want := cp.GoroutineGrowth / cp.Elapsed.Minutes(); cp.GoroutineRatePerMin != want {
				t.Errorf("checkpoint %d: rate %v/min, want growth %v over %v = %v/min", cp.Index, cp.GoroutineRatePerMin, cp.GoroutineGrowth, cp.Elapsed, want)
			}
		}
	})
}
