package trend_test

import (
	"fmt"
	"github.com/leakwatch/leakwatch/internal/trend"
	"github.com/leakwatch/leakwatch/watchdog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// A robustness generator: synthetic traces of every kind the detection corpus imitates, with
// randomised periods, amplitudes, noise, timing and seeds, run through DefaultParams and the
// default rules. The public traces are one draw of each kind; these are many, so a method tuned
// to the public files rather than to the kinds of behaviour fails here.

// genTrace is one generated series.
type genTrace struct {
	kind     string
	series   string // "goroutines" or "fds": picks the default rule
	dur      time.Duration
	step     time.Duration
	jitter   float64 // sampling interval * (1 +- jitter)
	drop     float64 // probability that a sample is missing
	noise    float64 // uniform +- noise
	value    func(t time.Duration) float64
	limit    float64
	leak     bool
	start    time.Duration // leak start
	stop     time.Duration // leak stop (0: never)
	rate     float64       // leak rate per minute (for staircases: chunk / interval)
	expect   trend.Level   // level the leak's rate implies (by the default rule), or by exhaustion
	expectBy time.Duration // the expected level must be reached within this long after start
}

type genKind struct {
	name  string
	clean bool
	make  func(rng *rand.Rand) genTrace
}

func uni(rng *rand.Rand, lo, hi float64) float64 { return lo + rng.Float64()*(hi-lo) }

func minutes(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }

// sawtooth is a pool filled from base to base+amp over period, then recycled; the phase is
// random.
func sawtooth(base, amp float64, period, phase time.Duration) func(time.Duration) float64 {
	return func(t time.Duration) float64 {
		return base + amp*float64((t+phase)%period)/float64(period)
	}
}

// bursts returns extra load: bursts of height h lasting d, every interval with a random
// offset per burst (drawn up front so that value(t) is a pure function of t).
func bursts(rng *rand.Rand, dur, every time.Duration, hLo, hHi, dLo, dHi float64) func(time.Duration) float64 {
	type burst struct {
		at, d time.Duration
		h     float64
	}
	var bs []burst
	for at := time.Duration(0); at < dur; at += every {
		bs = append(bs, burst{at + minutes(uni(rng, 0, every.Minutes()*0.8)), minutes(uni(rng, dLo, dHi)), uni(rng, hLo, hHi)})
	}
	return func(t time.Duration) float64 {
		for _, b := range bs {
			if t >= b.at && t < b.at+b.d {
				return b.h
			}
		}
		return 0
	}
}

func leakRamp(start, stop time.Duration, perMin float64) func(time.Duration) float64 {
	return func(t time.Duration) float64 {
		if t < start {
			return 0
		}
		if stop > 0 && t > stop {
			t = stop
		}
		return (t - start).Minutes() * perMin
	}
}

// leakRate draws a leak rate from 1.2x the notice rate to 8x it: 12-80/min for goroutines,
// 6-40/min for FDs.
func leakRate(rng *rand.Rand, series string) float64 {
	n := seedRule(series).NoticePerMin
	return uni(rng, 1.2*n, 8*n)
}

func levelFor(series string, rate float64) trend.Level {
	r := seedRule(series)
	for l := trend.Critical; l >= trend.Notice; l-- {
		if th := [...]float64{0, r.NoticePerMin, r.WarningPerMin, r.CriticalPerMin}[l]; th > 0 && rate >= th {
			return l
		}
	}
	return trend.OK
}

// base traits of a series: level, noise
func seriesBase(rng *rand.Rand, series string) (base, noise, scale float64) {
	if series == "fds" {
		return math.Round(uni(rng, 15, 60)), uni(rng, 0.5, 2), 0.3
	}
	return math.Round(uni(rng, 60, 400)), uni(rng, 2, 10), 1
}

func genKinds(series string) []genKind {
	const dur = 2 * time.Hour
	std := func(kind string, rng *rand.Rand) genTrace {
		_, noise, _ := seriesBase(rng, series)
		return genTrace{kind: kind, series: series, dur: dur, step: 10 * time.Second, noise: noise}
	}
	return []genKind{
		{"flat", true, func(rng *rand.Rand) genTrace {
			g := std("flat", rng)
			b, _, _ := seriesBase(rng, series)
			g.noise *= uni(rng, 1, 1.5)
			g.value = func(time.Duration) float64 { return b }
			return g
		}},
		{"bursts", true, func(rng *rand.Rand) genTrace {
			g := std("bursts", rng)
			b, _, sc := seriesBase(rng, series)
			br := bursts(rng, dur, minutes(uni(rng, 3, 12)), 30*sc, 400*sc, 0.1, 1.5)
			g.value = func(t time.Duration) float64 { return b + br(t) }
			return g
		}},
		{"warmup", true, func(rng *rand.Rand) genTrace {
			g := std("warmup", rng)
			b, _, sc := seriesBase(rng, series)
			amp, tau := uni(rng, 50, 300)*sc, uni(rng, 0.2, 2.5) // fast to slow
			g.value = func(t time.Duration) float64 { return b + amp*(1-math.Exp(-t.Minutes()/tau)) }
			return g
		}},
		{"sawtooth", true, func(rng *rand.Rand) genTrace {
			g := std("sawtooth", rng)
			b, _, sc := seriesBase(rng, series)
			period := minutes(uni(rng, 2, 15))
			// a pool grows by at most 120 (goroutines) before it is recycled
			amp := uni(rng, 30, 120) * sc
			g.value = sawtooth(b, amp, period, minutes(uni(rng, 0, period.Minutes())))
			return g
		}},
		{"step", true, func(rng *rand.Rand) genTrace {
			g := std("step", rng)
			b, _, sc := seriesBase(rng, series)
			at, size := minutes(uni(rng, 8, 100)), uni(rng, 40, 300)*sc
			g.value = func(t time.Duration) float64 {
				if t >= at {
					return b + size
				}
				return b
			}
			return g
		}},
		{"spikes", true, func(rng *rand.Rand) genTrace {
			g := std("spikes", rng)
			b, _, sc := seriesBase(rng, series)
			// single-sample outliers, up and down, at fixed random times
			up := map[int64]float64{}
			for i := 0; i < 20; i++ {
				k := rng.Int64N(int64(dur / (10 * time.Second)))
				up[k] = uni(rng, -0.5, 4) * 100 * sc
			}
			g.value = func(t time.Duration) float64 { return b + up[int64(t/(10*time.Second))] }
			return g
		}},
		{"irregular", true, func(rng *rand.Rand) genTrace {
			g := std("irregular", rng)
			b, _, _ := seriesBase(rng, series)
			g.step, g.jitter, g.drop = time.Duration(uni(rng, 5, 20)*float64(time.Second)), 0.8, uni(rng, 0, 0.3)
			g.value = func(time.Duration) float64 { return b }
			return g
		}},
		{"diurnal", true, func(rng *rand.Rand) genTrace {
			g := std("diurnal", rng)
			g.dur, g.step = 6*time.Hour, 30*time.Second
			b, _, sc := seriesBase(rng, series)
			// a slow load cycle whose steepest slope stays under half the notice rate
			period := uni(rng, 120, 360)
			amp := uni(rng, 0.2, 0.5) * seedRule(series).NoticePerMin * period / (2 * math.Pi)
			ph := uni(rng, 0, 2*math.Pi)
			_ = sc
			g.value = func(t time.Duration) float64 { return b + amp*math.Sin(2*math.Pi*t.Minutes()/period+ph) }
			return g
		}},
		// leaks
		{"steady-leak", false, func(rng *rand.Rand) genTrace {
			g := std("steady-leak", rng)
			b, _, _ := seriesBase(rng, series)
			g.leak, g.start, g.rate = true, minutes(uni(rng, 15, 40)), leakRate(rng, series)
			lk := leakRamp(g.start, 0, g.rate)
			g.value = func(t time.Duration) float64 { return b + lk(t) }
			return g
		}},
		{"late-leak", false, func(rng *rand.Rand) genTrace {
			g := std("late-leak", rng)
			g.dur = 3 * time.Hour
			b, _, _ := seriesBase(rng, series)
			g.leak, g.start, g.rate = true, minutes(uni(rng, 60, 140)), leakRate(rng, series)
			lk := leakRamp(g.start, 0, g.rate)
			g.value = func(t time.Duration) float64 { return b + lk(t) }
			return g
		}},
		{"staircase", false, func(rng *rand.Rand) genTrace {
			g := std("staircase", rng)
			b, _, _ := seriesBase(rng, series)
			every := minutes(uni(rng, 3, 8))
			g.rate = uni(rng, 1.5, 4) * seedRule(series).NoticePerMin
			chunk := g.rate * every.Minutes()
			g.leak, g.start = true, minutes(uni(rng, 15, 40))
			g.value = func(t time.Duration) float64 {
				if t < g.start {
					return b
				}
				return b + chunk*float64(1+(t-g.start)/every)
			}
			return g
		}},
		{"leak-under-bursts", false, func(rng *rand.Rand) genTrace {
			g := std("leak-under-bursts", rng)
			b, _, sc := seriesBase(rng, series)
			br := bursts(rng, dur, minutes(uni(rng, 3, 12)), 30*sc, 400*sc, 0.1, 1.5)
			g.leak, g.start, g.rate = true, minutes(uni(rng, 15, 40)), leakRate(rng, series)
			lk := leakRamp(g.start, 0, g.rate)
			g.value = func(t time.Duration) float64 { return b + br(t) + lk(t) }
			return g
		}},
		{"leak-under-sawtooth", false, func(rng *rand.Rand) genTrace {
			g := std("leak-under-sawtooth", rng)
			b, _, sc := seriesBase(rng, series)
			period := minutes(uni(rng, 2, 8))
			st := sawtooth(b, uni(rng, 30, 120)*sc, period, minutes(uni(rng, 0, period.Minutes())))
			g.leak, g.start, g.rate = true, minutes(uni(rng, 15, 40)), leakRate(rng, series)
			lk := leakRamp(g.start, 0, g.rate)
			g.value = func(t time.Duration) float64 { return st(t) + lk(t) }
			return g
		}},
		{"leak-stops", false, func(rng *rand.Rand) genTrace {
			g := std("leak-stops", rng)
			b, _, _ := seriesBase(rng, series)
			g.leak, g.start, g.rate = true, minutes(uni(rng, 15, 30)), leakRate(rng, series)
			g.stop = g.start + minutes(uni(rng, 15, 40))
			lk := leakRamp(g.start, g.stop, g.rate)
			g.value = func(t time.Duration) float64 { return b + lk(t) }
			return g
		}},
		{"irregular-leak", false, func(rng *rand.Rand) genTrace {
			g := std("irregular-leak", rng)
			b, _, _ := seriesBase(rng, series)
			g.step, g.jitter, g.drop = time.Duration(uni(rng, 5, 20)*float64(time.Second)), 0.8, uni(rng, 0, 0.3)
			g.leak, g.start, g.rate = true, minutes(uni(rng, 15, 40)), leakRate(rng, series)
			lk := leakRamp(g.start, 0, g.rate)
			g.value = func(t time.Duration) float64 { return b + lk(t) }
			return g
		}},
	}
}

// slowExhaust is a slow FD leak under the notice rate that reaches the limit in 3-6 h.
func slowExhaust(rng *rand.Rand) genTrace {
	b := math.Round(uni(rng, 15, 60))
	limit := 1024.0
	hours := uni(rng, 3, 6)
	g := genTrace{kind: "slow-exhaust", series: "fds", dur: 7 * time.Hour, step: 20 * time.Second, noise: uni(rng, 0.5, 2),
		limit: limit, leak: true, start: minutes(uni(rng, 10, 30)), expect: trend.Warning}
	g.rate = (limit - b) / (hours * 60)
	lk := leakRamp(g.start, 0, g.rate)
	g.value = func(t time.Duration) float64 { return b + lk(t) }
	return g
}

type genResult struct {
	falseAlarm bool          // a level above ok on a clean trace, or before the leak started
	latency    time.Duration // leak start to the expected level (-1: missed)
	over       bool          // a level more than one above the expected one
	unresolved bool          // still above ok 30 min after a leak stopped
}

func runGen(g genTrace, rng *rand.Rand) genResult {
	d, err := trend.New(trend.DefaultParams(), seedRule(g.series))
	if err != nil {
		panic(err)
	}
	res := genResult{latency: -1}
	lim := math.NaN()
	if g.limit > 0 {
		lim = g.limit
	}
	var final trend.Level
	for at := time.Duration(0); at < g.dur; {
		if rng.Float64() >= g.drop {
			v := math.Max(0, math.Round(g.value(at)+(rng.Float64()*2-1)*g.noise))
			vd := d.Step(at, v, lim, true)
			if vd.Level > trend.OK && (!g.leak || at < g.start) {
				res.falseAlarm = true
			}
			if g.leak && at >= g.start && vd.Level >= g.expect && res.latency < 0 {
				res.latency = at - g.start
			}
			if g.leak && vd.Level > g.expect+1 {
				res.over = true
			}
			if g.stop > 0 && at > g.stop+30*time.Minute && vd.Level > trend.OK {
				res.unresolved = true
			}
			final = vd.Level
		}
		step := g.step
		if g.jitter > 0 {
			step = time.Duration(float64(step) * (1 + (rng.Float64()*2-1)*g.jitter))
		}
		at += step
	}
	_ = final
	return res
}

// TestRobustness draws seedsPerKind traces of every kind for both series (deterministic
// seeds) and requires: no false alarm on any clean trace, every leak at >= 12/min (goroutines;
// 3.6/min FDs, the same fraction over the notice line) reaching its level within its bound,
// slow FD leaks warned about before the limit, and every stopped leak resolved.
func TestRobustness(t *testing.T) {
	seedsPerKind := 40
	if testing.Short() {
		seedsPerKind = 10
	}
	type agg struct {
		n, fa, missed, late, over, unresolved int
		lat                                   []float64
	}
	byKind := map[string]*agg{}
	var order []string
	var failures []string
	for _, series := range []string{"goroutines", "fds"} {
		kinds := genKinds(series)
		for ki, k := range kinds {
			name := series[:3] + "/" + k.name
			a := &agg{}
			byKind[name] = a
			order = append(order, name)
			for seed := 0; seed < seedsPerKind; seed++ {
				rng := rand.New(rand.NewPCG(uint64(ki)*1000+uint64(seed), uint64(len(series))))
				g := k.make(rng)
				if g.leak {
					// the level the rate is over by 20% or more (at least notice): a rate
					// within a few percent of a threshold may fairly be graded either side
					g.expect = max(levelFor(series, g.rate/1.2), trend.Notice)
					// bound: time for a Window to fill, Confirm, one slot, and for a staircase
					// two steps; or 20 min, whichever is more
					g.expectBy = 15 * time.Minute
					if g.kind == "staircase" || g.kind == "leak-under-sawtooth" {
						g.expectBy = 20 * time.Minute
					}
				}
				r := runGen(g, rng)
				a.n++
				switch {
				case r.falseAlarm:
					a.fa++
					failures = append(failures, fmt.Sprintf("%s seed %d: false alarm", name, seed))
				}
				if g.leak {
					if r.latency < 0 {
						a.missed++
						failures = append(failures, fmt.Sprintf("%s seed %d: missed (rate %.1f/min, want %v)", name, seed, g.rate, g.expect))
					} else {
						a.lat = append(a.lat, r.latency.Seconds())
						if r.latency > g.expectBy {
							a.late++
							failures = append(failures, fmt.Sprintf("%s seed %d: %v after %v (rate %.1f/min), want within %v", name, seed, g.expect, r.latency, g.rate, g.expectBy))
						}
					}
					if r.over {
						a.over++
					}
					if r.unresolved {
						a.unresolved++
						failures = append(failures, fmt.Sprintf("%s seed %d: not resolved 30 min after the leak stopped", name, seed))
					}
				}
			}
		}
	}
	{
		name := "fds/slow-exhaust"
		a := &agg{}
		byKind[name] = a
		order = append(order, name)
		for seed := 0; seed < seedsPerKind; seed++ {
			rng := rand.New(rand.NewPCG(99000+uint64(seed), 7))
			g := slowExhaust(rng)
			g.expectBy = 30 * time.Minute
			r := runGen(g, rng)
			a.n++
			if r.falseAlarm {
				a.fa++
				failures = append(failures, fmt.Sprintf("%s seed %d: false alarm", name, seed))
			}
			if r.latency < 0 || r.latency > g.expectBy {
				a.missed++
				failures = append(failures, fmt.Sprintf("%s seed %d: warning after %v, want within %v", name, seed, r.latency, g.expectBy))
			} else {
				a.lat = append(a.lat, r.latency.Seconds())
			}
		}
	}
	var sb strings.Builder
	for _, name := range order {
		a := byKind[name]
		fmt.Fprintf(&sb, "\n%-28s n=%d fa=%d missed=%d late=%d over=%d unresolved=%d", name, a.n, a.fa, a.missed, a.late, a.over, a.unresolved)
		if len(a.lat) > 0 {
			slices.Sort(a.lat)
			fmt.Fprintf(&sb, " latency median=%.0fs max=%.0fs", a.lat[len(a.lat)/2], a.lat[len(a.lat)-1])
		}
	}
	t.Log(sb.String())
	for i, f := range failures {
		if i == 30 {
			t.Errorf("... and %d more", len(failures)-30)
			break
		}
		t.Error(f)
	}
}

// seedRule is the shipped rule of a built-in series: the seed's thresholds as DefaultConfig
// declares them.
func seedRule(series string) trend.Rule { return watchdog.DefaultConfig().Rules[series] }
