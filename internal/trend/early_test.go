package trend_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/trend"
)

// shortParams are the short settings of issue 13: a 30 s Window and a 10 s warm-up.
func shortParams() trend.Params {
	return trend.Params{Window: 30 * time.Second, Warmup: 10 * time.Second}
}

// TestFastLeakCriticalAtOnce: a leak at 100 × the critical rate (5000 goroutines/min) is
// critical within 10 s of its start, whether it starts with the process (in warm-up) or later;
// samples every second with jitter and noise.
func TestFastLeakCriticalAtOnce(t *testing.T) {
	rule := seedRule("goroutines")
	rate := 100 * rule.CriticalPerMin
	for _, start := range []time.Duration{0, 2 * time.Second, 10 * time.Second, 2 * time.Minute, 7*time.Minute + 1500*time.Millisecond} {
		for seed := uint64(0); seed < 10; seed++ {
			rng := rand.New(rand.NewPCG(seed, 13))
			d, err := trend.New(shortParams(), rule)
			if err != nil {
				t.Fatal(err)
			}
			at, got := time.Duration(0), time.Duration(-1)
			for ; at < start+time.Minute; at += time.Duration(float64(time.Second) * (0.5 + rng.Float64())) {
				v := 50 + math.Round(rng.Float64()*6)
				if at >= start {
					v += (at - start).Minutes() * rate
				}
				lv := d.Step(at, v, math.NaN(), true).Level
				if at < start && lv != trend.OK {
					t.Fatalf("start %v seed %d: %v at %v, before the leak", start, seed, lv, at)
				}
				if lv == trend.Critical && got < 0 {
					got = at - start
				}
			}
			if got < 0 || got > 10*time.Second {
				t.Errorf("leak at %.0f/min from %v (seed %d): critical after %v, want within 10 s", rate, start, seed, got)
			}
		}
	}
}

// recycledPool is a worker pool that adds a worker every 250 ms up to 40, then recycles them
// all: a sawtooth over a flat floor.
func recycledPool(base float64) func(time.Duration) float64 {
	const every, size = 250 * time.Millisecond, 40
	return func(t time.Duration) float64 { return base + float64(int64(t/every)%(size+1)) }
}

// shortWindows are Windows from the shortest the watchdog allows at a 1 s Interval with room
// for the 10 s warm-up (30 s) to the default (5 min).
var shortWindows = []time.Duration{30 * time.Second, 40 * time.Second, 45 * time.Second, time.Minute,
	75 * time.Second, 90 * time.Second, 2 * time.Minute, 150 * time.Second, 3 * time.Minute, 4 * time.Minute, 5 * time.Minute}

// sampling is how a test series is sampled: every second, every 250 ms, or at random instants
// (gaps uniform in [0, 2 s), as the watchdog's Jitter 1 gives), from a random offset.
var sampling = []struct {
	name string
	next func(rng *rand.Rand) time.Duration
}{
	{"every 1s", func(*rand.Rand) time.Duration { return time.Second }},
	{"every 250ms", func(*rand.Rand) time.Duration { return 250 * time.Millisecond }},
	{"random", func(rng *rand.Rand) time.Duration { return time.Duration(rng.Int64N(int64(2 * time.Second))) }},
}

// TestShortWindowsQuiet: healthy shapes raise nothing over 10 minutes at every Window from
// 30 s to 5 min, with a 10 s warm-up, sampled every second, every 250 ms and at random
// instants: the recycled pool (a 10 s sawtooth over a flat floor, which slots of 3-12 s alias
// into minima that jump by most of its amplitude), bursts of 300 that return to the floor,
// and a start-up fill of 300 that decelerates and ends.
func TestShortWindowsQuiet(t *testing.T) {
	rule := seedRule("goroutines")
	shapes := []struct {
		name  string
		value func(rng *rand.Rand) func(time.Duration) float64
	}{
		{"recycled pool", func(*rand.Rand) func(time.Duration) float64 { return recycledPool(30) }},
		{"bursts", func(rng *rand.Rand) func(time.Duration) float64 {
			period, length := time.Duration(20+rng.IntN(40))*time.Second, time.Duration(2+rng.IntN(6))*time.Second
			return func(t time.Duration) float64 {
				if t%period < length {
					return 330
				}
				return 30
			}
		}},
		{"start-up fill", func(rng *rand.Rand) func(time.Duration) float64 {
			tau := time.Duration(1+rng.IntN(3)) * time.Second
			return func(t time.Duration) float64 { return 30 + 300*(1-math.Exp(-float64(t)/float64(tau))) }
		}},
	}
	for _, win := range shortWindows {
		for _, sh := range shapes {
			for _, sm := range sampling {
				for seed := uint64(0); seed < 6; seed++ {
					rng := rand.New(rand.NewPCG(seed, 7))
					p := shortParams()
					p.Window = win
					d, err := trend.New(p, rule)
					if err != nil {
						t.Fatal(err)
					}
					value := sh.value(rng)
					for at := time.Duration(rng.Int64N(int64(time.Second))); at < 10*time.Minute; at += sm.next(rng) {
						v := d.Step(at, value(at), math.NaN(), true)
						if v.Level != trend.OK {
							t.Errorf("%s, Window %v, sampled %s, seed %d: %v at %v (rate %.0f/min)", sh.name, win, sm.name, seed, v.Level, at, v.RatePerMin)
							break
						}
					}
				}
			}
		}
	}
}

// TestTimeToCritical measures, with the default parameters and the seed's goroutine rule,
// how long a leak takes to be graded critical against its rate (1 to 100 × the critical
// 50/min), for a leak present from the first sample and one that starts 30 minutes in,
// sampled every second with noise. It requires a faster leak never to be reported later, and
// logs the table that bench/README.md quotes.
func TestTimeToCritical(t *testing.T) {
	rule := seedRule("goroutines")
	var sb []byte
	for _, start := range []time.Duration{0, 30 * time.Minute} {
		prev := time.Duration(math.MaxInt64)
		for _, mult := range []float64{1.2, 2, 5, 10, 20, 100} {
			rate := mult * rule.CriticalPerMin
			rng := rand.New(rand.NewPCG(uint64(mult*10), 1))
			d, err := trend.New(trend.DefaultParams(), rule)
			if err != nil {
				t.Fatal(err)
			}
			got := time.Duration(-1)
			for at := time.Duration(0); at < start+time.Hour && got < 0; at += time.Second {
				v := 200 + math.Round(rng.Float64()*10)
				if at >= start {
					v += (at - start).Minutes() * rate
				}
				if d.Step(at, v, math.NaN(), true).Level == trend.Critical && at >= start {
					got = at - start
				}
			}
			if got < 0 {
				t.Errorf("leak at %.0f/min from %v: never critical", rate, start)
				continue
			}
			if got > prev {
				t.Errorf("leak at %.0f/min from %v: critical after %v, later than the slower leak (%v)", rate, start, got, prev)
			}
			prev = got
			sb = fmt.Appendf(sb, "\nleak from %-6v %6.0f/min (%5.1f x critical): critical after %v", start, rate, mult, got)
		}
	}
	t.Log(string(sb))
}

// TestVerdictSpan: Verdict.Span says how much data the graded rate was estimated over. A
// leak at 100 × the critical rate is graded critical by the fast rule on much less than the
// 5-minute Window; a leak at 1.5 × the critical rate waits for the window estimate, whose span
// is the Window (within a slot).
func TestVerdictSpan(t *testing.T) {
	rule := seedRule("goroutines")
	p := trend.DefaultParams()
	slot := p.Window / time.Duration(p.Slots)
	for _, tc := range []struct {
		mult     float64
		min, max time.Duration
	}{{100, slot, p.Window / 2}, {1.5, p.Window - slot, p.Window}} {
		d, err := trend.New(p, rule)
		if err != nil {
			t.Fatal(err)
		}
		var got trend.Verdict
		for at := time.Duration(0); at < time.Hour && got.Level != trend.Critical; at += time.Second {
			got = d.Step(at, 100+max(0, (at-10*time.Minute).Minutes())*tc.mult*rule.CriticalPerMin, math.NaN(), true)
		}
		t.Logf("leak at %gx the critical rate: critical at %.0f/min over %v", tc.mult, got.RatePerMin, got.Span)
		if got.Level != trend.Critical || got.Span < tc.min || got.Span > tc.max {
			t.Errorf("leak at %gx the critical rate: %v at %.0f/min over %v, want critical over %v..%v", tc.mult, got.Level, got.RatePerMin, got.Span, tc.min, tc.max)
		}
	}
}

// TestFastVerdictBaseline: a leak graded by the fast rule before the window estimate is ready
// reports the floor it grew from, not 0: the baseline is the series' floor before the leak,
// and the baseline plus the rate over the span judged comes back to about the current value.
func TestFastVerdictBaseline(t *testing.T) {
	rule := seedRule("goroutines")
	for _, tc := range []struct {
		name string
		p    trend.Params
		rate float64
	}{
		{"defaults 100x", trend.DefaultParams(), 100 * rule.CriticalPerMin},
		{"defaults 10x", trend.DefaultParams(), 10 * rule.CriticalPerMin},
		{"short 100x", shortParams(), 100 * rule.CriticalPerMin},
	} {
		for seed := uint64(0); seed < 5; seed++ {
			rng := rand.New(rand.NewPCG(seed, 29))
			d, err := trend.New(tc.p, rule)
			if err != nil {
				t.Fatal(err)
			}
			var first *trend.Verdict
			var value float64
			for at := time.Duration(0); at < 10*time.Minute && first == nil; at += time.Second {
				value = 200 + math.Round(rng.Float64()*6) + at.Minutes()*tc.rate
				if v := d.Step(at, value, math.NaN(), true); v.Level > trend.OK {
					first = &v
				}
			}
			if first == nil {
				t.Fatalf("%s seed %d: no raise", tc.name, seed)
			}
			if first.Ready {
				t.Fatalf("%s seed %d: the window estimate was ready; the case must exercise the fast rule", tc.name, seed)
			}
			if first.Baseline < 200 || first.Baseline >= value {
				t.Errorf("%s seed %d: baseline %g, want the floor the leak grew from (>= 200, below the value %g)", tc.name, seed, first.Baseline, value)
			}
			if got := first.Baseline + first.RatePerMin*first.Span.Minutes(); math.Abs(got-value) > 0.25*(value-200) {
				t.Errorf("%s seed %d: baseline %g + %.0f/min over %v = %g, far from the value %g", tc.name, seed, first.Baseline, first.RatePerMin, first.Span, got, value)
			}
		}
	}
}
