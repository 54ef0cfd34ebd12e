package trend

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var (
	gorRule = Rule{NoticePerMin: 10, WarningPerMin: 20, CriticalPerMin: 50}
	// shortRule is gorRule for a run compressed 50x in time (a 6 s window instead of 5 min)
	shortRule = Rule{NoticePerMin: 10 * 50, WarningPerMin: 20 * 50, CriticalPerMin: 50 * 50}
	fdRule    = Rule{NoticePerMin: 5, WarningPerMin: 15, CriticalPerMin: 30, ExhaustWarning: 6 * time.Hour, ExhaustCritical: time.Hour}
)

// synth describes a synthetic series: value(t) plus uniform noise of +-noise, sampled every
// step (with jitter fraction and a drop probability), for dur.
type synth struct {
	dur, step time.Duration
	jitter    float64 // each interval is step * (1 +- jitter)
	drop      float64 // probability that a sample is missing
	noise     float64
	value     func(t time.Duration, rng *rand.Rand) float64
	limit     float64
}

type runResult struct {
	maxBefore   Level            // highest level before leakFrom
	first       [4]time.Duration // first time each level was reached (-1: never)
	top         Level
	final       Level
	raises      int           // number of upward changes
	exhaustion  time.Duration // Exhaustion at the first Warning by exhaustion
	exhaustTime time.Duration
}

func run(t *testing.T, p Params, r Rule, s synth, leakFrom time.Duration) runResult {
	t.Helper()
	d, err := New(p, r)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	res := runResult{first: [4]time.Duration{-1, -1, -1, -1}}
	for at := time.Duration(0); at < s.dur; {
		if rng.Float64() >= s.drop {
			v := s.value(at, rng) + (rng.Float64()*2-1)*s.noise
			vd := d.Step(at, math.Round(v), s.limit, true)
			if at < leakFrom && vd.Level > res.maxBefore {
				res.maxBefore = vd.Level
			}
			if res.first[vd.Level] < 0 {
				res.first[vd.Level] = at
			}
			if vd.Level > res.top {
				res.top = vd.Level
			}
			if vd.Changed && vd.Level > vd.Prev {
				res.raises++
			}
			if vd.Changed && vd.Cause == CauseExhaustion && res.exhaustTime == 0 {
				res.exhaustion, res.exhaustTime = vd.Exhaustion, at
			}
			res.final = vd.Level
		}
		step := s.step
		if s.jitter > 0 {
			step = time.Duration(float64(step) * (1 + (rng.Float64()*2-1)*s.jitter))
		}
		at += step
	}
	return res
}

func ramp(from time.Duration, perMin float64) func(time.Duration) float64 {
	return func(t time.Duration) float64 {
		if t < from {
			return 0
		}
		return (t - from).Minutes() * perMin
	}
}

const never = time.Duration(math.MaxInt64)

func TestDetectorSynthetic(t *testing.T) {
	const base = 100.0
	min := time.Minute
	for _, tc := range []struct {
		name     string
		p        Params
		r        Rule
		s        synth
		leakFrom time.Duration // never: a clean series
		want     Level         // expected level of a leak (reached within within)
		within   time.Duration
		top      Level // highest level allowed at any time
		final    Level
	}{
		{name: "flat noise", r: gorRule, leakFrom: never, top: OK, final: OK,
			s: synth{dur: 3 * time.Hour, step: 10 * time.Second, noise: 8, value: func(time.Duration, *rand.Rand) float64 { return base }}},
		{name: "steady leak 30/min", r: gorRule, leakFrom: 30 * min, want: Warning, within: 6 * min, top: Warning, final: Warning,
			s: synth{dur: 90 * min, step: 10 * time.Second, noise: 6, value: func(t time.Duration, _ *rand.Rand) float64 { return base + ramp(30*min, 30)(t) }}},
		{name: "fast leak 90/min", r: gorRule, leakFrom: 20 * min, want: Critical, within: 6 * min, top: Critical, final: Critical,
			s: synth{dur: 60 * min, step: 10 * time.Second, noise: 6, value: func(t time.Duration, _ *rand.Rand) float64 { return base + ramp(20*min, 90)(t) }}},
		{name: "bursts return to floor", r: gorRule, leakFrom: never, top: OK, final: OK,
			s: synth{dur: 3 * time.Hour, step: 10 * time.Second, noise: 6, value: func(t time.Duration, _ *rand.Rand) float64 {
				if t%(7*min) < 60*time.Second {
					return base + 300
				}
				return base
			}}},
		{name: "leak under bursts 25/min", r: gorRule, leakFrom: 30 * min, want: Warning, within: 8 * min, top: Warning, final: Warning,
			s: synth{dur: 90 * min, step: 10 * time.Second, noise: 6, value: func(t time.Duration, _ *rand.Rand) float64 {
				v := base + ramp(30*min, 25)(t)
				if t%(7*min) < 60*time.Second {
					v += 300
				}
				return v
			}}},
		{name: "one-time step", r: gorRule, leakFrom: never, top: OK, final: OK,
			s: synth{dur: 2 * time.Hour, step: 10 * time.Second, noise: 6, value: func(t time.Duration, _ *rand.Rand) float64 {
				if t >= 40*min {
					return base + 150
				}
				return base
			}}},
		{name: "staircase 120 every 5 min", r: gorRule, leakFrom: 20 * min, want: Warning, within: 15 * min, top: Warning, final: Warning,
			s: synth{dur: 90 * min, step: 10 * time.Second, noise: 6, value: func(t time.Duration, _ *rand.Rand) float64 {
				if t < 25*min {
					return base
				}
				return base + 120*float64(1+(t-25*min)/(5*min))
			}}},
		{name: "single-sample outliers up and down", r: gorRule, leakFrom: never, top: OK, final: OK,
			s: synth{dur: 2 * time.Hour, step: 10 * time.Second, noise: 6, value: func(t time.Duration, rng *rand.Rand) float64 {
				switch x := rng.Float64(); {
				case x < 0.01:
					return base + 400
				case x < 0.02:
					return base - 80
				}
				return base
			}}},
		{name: "sawtooth recycling", r: gorRule, leakFrom: never, top: OK, final: OK,
			s: synth{dur: 2 * time.Hour, step: 10 * time.Second, noise: 4, value: func(t time.Duration, _ *rand.Rand) float64 {
				return base + 85*float64(t%(3*min))/float64(3*min)
			}}},
		{name: "leak under sawtooth 30/min", r: gorRule, leakFrom: 30 * min, want: Warning, within: 8 * min, top: Warning, final: Warning,
			s: synth{dur: 90 * min, step: 10 * time.Second, noise: 4, value: func(t time.Duration, _ *rand.Rand) float64 {
				return base + 85*float64(t%(3*min))/float64(3*min) + ramp(30*min, 30)(t)
			}}},
		{name: "warm-up plateau", r: gorRule, leakFrom: never, top: OK, final: OK,
			s: synth{dur: 2 * time.Hour, step: 10 * time.Second, noise: 5, value: func(t time.Duration, _ *rand.Rand) float64 {
				return base + 200*(1-math.Exp(-t.Minutes()/1.5))
			}}},
		{name: "irregular and missing samples, leak 30/min", r: gorRule, leakFrom: 30 * min, want: Warning, within: 7 * min, top: Warning, final: Warning,
			s: synth{dur: 90 * min, step: 12 * time.Second, jitter: 0.8, drop: 0.2, noise: 6, value: func(t time.Duration, _ *rand.Rand) float64 { return base + ramp(30*min, 30)(t) }}},
		{name: "irregular flat", r: gorRule, leakFrom: never, top: OK, final: OK,
			s: synth{dur: 3 * time.Hour, step: 12 * time.Second, jitter: 0.8, drop: 0.2, noise: 8, value: func(time.Duration, *rand.Rand) float64 { return base }}},
		// the default scenario compressed 50x: a 6 s window, 200 ms sampling, thresholds 50x
		{name: "short run: 200ms sampling, 6s window, fast leak", p: Params{Window: 6 * time.Second, Warmup: -1}, r: shortRule,
			leakFrom: 10 * time.Second, want: Critical, within: 7 * time.Second, top: Critical, final: Critical,
			s: synth{dur: 30 * time.Second, step: 200 * time.Millisecond, noise: 6, value: func(t time.Duration, _ *rand.Rand) float64 { return base + ramp(10*time.Second, 80*50)(t) }}},
		{name: "short run: 200ms sampling, 6s window, noise", p: Params{Window: 6 * time.Second, Warmup: -1}, r: shortRule,
			leakFrom: never, top: OK, final: OK,
			s: synth{dur: 5 * time.Minute, step: 200 * time.Millisecond, noise: 8, value: func(time.Duration, *rand.Rand) float64 { return base }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, tc.p, tc.r, tc.s, tc.leakFrom)
			if got.maxBefore != OK {
				t.Errorf("level before the leak = %v, want ok (false alarm)", got.maxBefore)
			}
			if got.top > tc.top {
				t.Errorf("highest level = %v, want at most %v", got.top, tc.top)
			}
			if got.final != tc.final {
				t.Errorf("final level = %v, want %v", got.final, tc.final)
			}
			if tc.leakFrom != never {
				at := got.first[tc.want]
				if at < 0 {
					t.Fatalf("never reached %v", tc.want)
				}
				if lat := at - tc.leakFrom; lat > tc.within {
					t.Errorf("reached %v %v after the leak started, want within %v", tc.want, lat, tc.within)
				}
			}
		})
	}
}

func TestLeakStopsResolves(t *testing.T) {
	min := time.Minute
	s := synth{dur: 2 * time.Hour, step: 10 * time.Second, noise: 6, value: func(t time.Duration, _ *rand.Rand) float64 {
		end := min * 50
		if t > end {
			t = end
		}
		return 100 + ramp(20*min, 30)(t)
	}}
	got := run(t, Params{}, gorRule, s, 20*min)
	if got.first[Warning] < 0 {
		t.Fatal("never reached warning")
	}
	if got.final != OK {
		t.Errorf("final level = %v, want ok after the leak stopped", got.final)
	}
	if got.raises > 2 {
		t.Errorf("%d upward changes, want at most 2 (ok->notice->warning, no flapping)", got.raises)
	}
}

func TestSlowLeakExhaustion(t *testing.T) {
	min := time.Minute
	const limit = 1024
	// 3/min is under the notice rate; from 24 the limit is 1000/3 min = 5.6 h away at the start
	s := synth{dur: 6 * time.Hour, step: 20 * time.Second, noise: 1.5, limit: limit,
		value: func(t time.Duration, _ *rand.Rand) float64 { return 24 + ramp(10*min, 3)(t) }}
	got := run(t, Params{}, fdRule, s, 10*min)
	if got.exhaustTime == 0 {
		t.Fatal("no exhaustion warning")
	}
	if lat := got.exhaustTime - 10*min; lat > 15*min {
		t.Errorf("exhaustion warning %v after the leak started, want within 15m", lat)
	}
	// the true time left when the warning fired
	v := 24 + ramp(10*min, 3)(got.exhaustTime)
	want := time.Duration((limit - v) / 3 * float64(time.Minute))
	if diff := math.Abs(float64(got.exhaustion-want)) / float64(want); diff > 0.15 {
		t.Errorf("Exhaustion = %v, want %v +-15%%", got.exhaustion, want)
	}
	if got.first[Critical] < 0 {
		t.Errorf("never critical although the limit came within 1h")
	}
}

func TestLimitReached(t *testing.T) {
	d, err := New(Params{Warmup: -1}, fdRule)
	if err != nil {
		t.Fatal(err)
	}
	var v Verdict
	for i := 0; i < 100; i++ {
		v = d.Step(time.Duration(i)*10*time.Second, 100, 100, true)
	}
	if v.Level != Critical || v.Cause != CauseLimit {
		t.Errorf("at the limit: level %v cause %v, want critical limit_reached", v.Level, v.Cause)
	}
}

func TestStepSkipsBadSamples(t *testing.T) {
	d, err := New(Params{Warmup: -1}, gorRule)
	if err != nil {
		t.Fatal(err)
	}
	var last Verdict
	for i := 0; i < 60; i++ {
		last = d.Step(time.Duration(i)*10*time.Second, 100+float64(i)*10, math.NaN(), true)
	}
	if last.Level == OK {
		t.Fatalf("level %v after a 60/min ramp, want above ok", last.Level)
	}
	for _, tc := range []struct {
		name string
		t    time.Duration
		v    float64
	}{{"NaN value", 601 * time.Second, math.NaN()}, {"Inf value", 601 * time.Second, math.Inf(1)}, {"time goes back", 100 * time.Second, 0}} {
		got := d.Step(tc.t, tc.v, 0, true)
		if got.Changed || got.Level != last.Level || got.RatePerMin != last.RatePerMin {
			t.Errorf("%s: verdict %+v, want the previous one %+v unchanged", tc.name, got, last)
		}
	}
}

// TestNotReadyHoldsOK: before the window estimate is Ready, a start-up fill (fast, then
// decelerating and ending) is not graded, while a ramp that does not decelerate and has risen
// more than any fill could (600/min from the first sample) is: the warm-up does not blind.
func TestNotReadyHoldsOK(t *testing.T) {
	d, err := New(Params{}, gorRule)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 120; i++ {
		at := time.Duration(i) * 10 * time.Second
		v := d.Step(at, 100+400*(1-math.Exp(-at.Minutes()/1.5)), 0, true)
		if v.Level != OK || (v.Ready && at < 9*time.Minute) {
			t.Fatalf("fill, sample %d: %+v, want ok (and not ready before warm-up + most of a window)", i, v)
		}
	}
	d, err = New(Params{}, gorRule)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		v := d.Step(time.Duration(i)*10*time.Second, float64(i)*100, 0, true)
		if v.Ready {
			t.Fatalf("ramp, sample %d: ready within warm-up and the first window", i)
		}
		if v.Level == Critical {
			if at := time.Duration(i) * 10 * time.Second; at > 3*time.Minute {
				t.Errorf("600/min from the first sample: critical at %v, want within 3 min", at)
			}
			return
		}
	}
	t.Errorf("600/min from the first sample: never critical before the estimate was ready")
}
