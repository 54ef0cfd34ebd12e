package watchdog

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The first minutes through the shipped path: traces built here, judged by [Replay] with the
// goroutine rule of [DefaultConfig] (the engine the live watchdog drives, slot phases included).

// replayGoroutines replays the goroutine series value(t), sampled at the times next gives from
// a random offset for dur, with cfg, and returns its alerts.
func replayGoroutines(t *testing.T, cfg Config, dur time.Duration, rng *rand.Rand, next func() time.Duration, value func(time.Duration) float64) []Alert {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("t,goroutines\n")
	for at := time.Duration(rng.Int64N(int64(time.Second))); at < dur; at += next() {
		fmt.Fprintf(&sb, "%.4f,%g\n", at.Seconds(), value(at))
	}
	var got []Alert
	if err := Replay(strings.NewReader(sb.String()), cfg, func(a Alert) { got = append(got, a) }); err != nil {
		t.Fatal(err)
	}
	return got
}

// shortConfig is DefaultConfig with the given Window and a 10 s warm-up.
func shortConfig(win time.Duration) Config {
	c := DefaultConfig()
	c.Window, c.Warmup = win, 10*time.Second
	c.Confirm, c.Resolve = 0, 0 // their defaults, from the Window
	return c
}

// TestReplayRecycledPoolQuiet: a pool that adds a worker every 250 ms up to 40 and then
// recycles them all (a 10 s sawtooth over a flat floor) raises nothing over 10 minutes, at
// Windows from 30 s to 5 min with a 10 s warm-up, sampled every second, every 250 ms and at
// random instants (gaps uniform in [0, 2 s), as Jitter 1 gives).
func TestReplayRecycledPoolQuiet(t *testing.T) {
	pool := func(at time.Duration) float64 { return 30 + float64(int64(at/(250*time.Millisecond))%41) }
	for _, win := range []time.Duration{30 * time.Second, 40 * time.Second, time.Minute, 90 * time.Second, 2 * time.Minute, 5 * time.Minute} {
		for _, sm := range []string{"every 1s", "every 250ms", "random"} {
			for seed := uint64(0); seed < 4; seed++ {
				rng := rand.New(rand.NewPCG(seed, 13))
				next := map[string]func() time.Duration{
					"every 1s":    func() time.Duration { return time.Second },
					"every 250ms": func() time.Duration { return 250 * time.Millisecond },
					"random":      func() time.Duration { return time.Duration(rng.Int64N(int64(2 * time.Second))) },
				}[sm]
				if got := replayGoroutines(t, shortConfig(win), 10*time.Minute, rng, next, pool); len(got) > 0 {
					t.Errorf("Window %v, sampled %s, seed %d: %v", win, sm, seed, got[0])
				}
			}
		}
	}
}

// TestReplayFastLeakSpan: with Window 30 s and Warmup 10 s, a leak at 100 × the critical rate
// is critical within 10 s of its start, from the first sample or later; with the default
// 5-minute Window, the critical alert of a 100× leak comes long before a Window of data, and
// its reason and Window give the span actually judged, not "over 5m0s".
func TestReplayFastLeakSpan(t *testing.T) {
	rate := 100 * DefaultConfig().Rules[SeriesGoroutines].CriticalPerMin
	leak := func(start time.Duration, rng *rand.Rand) func(time.Duration) float64 {
		return func(at time.Duration) float64 {
			v := 50 + math.Round(rng.Float64()*6)
			if at >= start {
				v += (at - start).Minutes() * rate
			}
			return v
		}
	}
	for _, start := range []time.Duration{0, 2 * time.Second, 10 * time.Second, 2 * time.Minute} {
		for seed := uint64(0); seed < 4; seed++ {
			rng := rand.New(rand.NewPCG(seed, 17))
			got := replayGoroutines(t, shortConfig(30*time.Second), start+time.Minute, rng,
				func() time.Duration { return time.Duration(float64(time.Second) * (0.5 + rng.Float64())) }, leak(start, rng))
			crit := firstAt(got, LevelCritical)
			if crit == nil || crit.Time.Sub(time.Unix(0, 0)) > start+10*time.Second {
				t.Errorf("Window 30s, leak from %v, seed %d: critical %v, want within 10 s of the start", start, seed, crit)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 17))
	got := replayGoroutines(t, DefaultConfig(), 10*time.Minute, rng, func() time.Duration { return time.Second }, leak(time.Minute, rng))
	crit := firstAt(got, LevelCritical)
	if crit == nil {
		t.Fatalf("default settings: the 100x leak never went critical: %v", got)
	}
	win := DefaultConfig().Window
	if crit.Window <= 0 || crit.Window >= win {
		t.Errorf("critical alert %v: Window %v, want the span judged, under the configured %v", crit, crit.Window, win)
	}
	if want := fmt.Sprintf("over %v ", crit.Window); !strings.Contains(crit.Reason, want) || strings.Contains(crit.Reason, "over "+win.String()) {
		t.Errorf("critical reason %q, want %q", crit.Reason, want)
	}
}

// firstAt returns the first alert at level l or above, nil when none.
func firstAt(got []Alert, l Level) *Alert {
	for i := range got {
		if got[i].Level >= l {
			return &got[i]
		}
	}
	return nil
}
