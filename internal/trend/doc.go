// Package trend is leakwatch's pure leak detector: per series, it estimates how fast the
// series' floor grows, grades the rate ok < notice < warning < critical against a [Rule], and
// forecasts when the series reaches a known limit.
//
// It is pure: samples and their times go in ([Detector.Step]), verdicts come out. No I/O, no
// clock, no locks, no goroutines. Memory is fixed by [New] (O([Params].Slots), whatever the
// uptime or the sampling interval) and Step does not allocate. A Detector serves one series from
// one goroutine at a time.
//
// # Quick start
//
//	d, err := trend.New(trend.DefaultParams(), trend.Rule{NoticePerMin: 10, WarningPerMin: 20, CriticalPerMin: 50})
//	...
//	v := d.Step(sinceStart, float64(runtime.NumGoroutine()), 0)
//	if v.Changed { log(v.Level, v.Cause, v.RatePerMin) }
//
// [ReadCSV] parses recorded traces and [Replay] runs them through the default rules, which is
// what bench/replay and the detection scorer use.
//
// # What is estimated
//
// A leak is sustained growth of the floor: the level the series returns to between bursts.
// Step keeps, for each of Slots time slots per Window, only the lowest sample and its time.
// Each evaluation then:
//
//  1. takes the slot minima m_i of the last Window (a burst or an upward outlier vanishes in a
//     slot's minimum as long as it does not fill the whole slot);
//  2. runs a 3-slot running median over them, so one odd slot, high or low, is dropped (the
//     newest slot is taken as it is: a low value there can only flatten the estimate);
//  3. forms the lower envelope e_i = min(m_i ... m_newest): the lowest the series goes from then
//     on. A sawtooth (pools recycled), bursts and a warm-up that levelled off leave it flat; a
//     leak raises it at the leak's rate, with no lag;
//  4. looks for a one-time step: the largest rise between neighbouring envelope points, if it is
//     over StepFactor times both the noise scale (the median absolute deviation of slot-to-slot
//     changes) and the typical rise, is cut out (the later points are lowered by it);
//  5. takes the Theil–Sen slope of the envelope (the median of all pairwise slopes), in units
//     per minute. Theil–Sen ignores up to ~29% of odd points.
//
// Steps are remembered: a step whose new level held flat for StepSettle is recorded. Two or more
// recorded steps within StepMemory are a staircase leak (a batch job leaking a chunk every few
// minutes), graded at total size / (number of steps × mean interval), decaying once the next
// step is overdue. [Verdict].RatePerMin is the larger of the envelope slope and the staircase
// rate, and [Verdict].Cause says which.
//
// # Levels, confirmation and hysteresis
//
// A level is raised when the rate has been at or over its threshold for Confirm without a break
// (each level keeps its own clock, so a fast leak goes straight to critical). A level is kept
// while the rate stays at or over ResolveRatio × its threshold, and lowered only after Resolve
// below that: a leak that stops resolves once, without flapping. No level is raised during
// Warmup after the first sample, and warm-up samples are not used at all: pools filling at
// start-up are not growth. After warm-up the estimate is Ready once MinSpan of data is in.
// Without enough data (also after a gap longer than Window) the level is held.
//
// # Exhaustion
//
// Where Step gets a limit > 0 and the rule enables it, a second ring of 3×Slots slots over
// ExhaustWindow gives a longer, steadier floor trend. Time to exhaustion is (limit − current
// floor) / that rate; within Rule.ExhaustCritical it is critical, within Rule.ExhaustWarning a
// warning, whatever the rate thresholds say. Exhaustion levels are confirmed and resolved like
// growth levels (the horizons are stretched by 1/ResolveRatio for keeping a level). A value at or
// over the limit is critical with [CauseLimit].
//
// # Parameters
//
// Every zero field of [Params] takes its default; most derive from Window, so a 6 s window with
// 200 ms sampling behaves like the default 5 min window with 10 s sampling.
//
//	Window        5m           span of the estimate
//	Warmup        5m           nothing graded, nothing kept; < 0 disables
//	Slots         10           slots per Window (4..64): the memory bound
//	MinSpan       Window       data needed before Ready
//	Confirm       Window/4     a higher level must hold this long (75 s)
//	Resolve       Window/2     a lower level must hold this long (150 s)
//	ResolveRatio  0.6          hysteresis: keep a level down to 0.6 × its threshold
//	StepFactor    5            one-time step: rise > 5 × noise and > 5 × typical rise
//	StepSettle    Window/3     a step must hold flat this long to count for a staircase
//	StepMemory    4×Window     steps within this span make a staircase
//	ExhaustWindow 3×Window     span of the exhaustion trend
//
// # Latency and false alarms
//
// Theil–Sen on a window reaches ~80% of a new leak's rate once the leak fills ~65% of the
// window, so with the defaults a leak over its threshold by 25% or more is graded about
// 3–4 minutes after it starts, plus Confirm. A longer Window or Confirm resists longer bursts and
// slower sawtooth periods (a sawtooth whose period approaches Window shows its last ramp as
// growth) at the price of latency; a shorter one is faster and noisier. On the public detection
// traces the defaults give no false alarm, no miss, median latency 260 s and max 780 s (the
// staircase, which needs two steps to be told from a one-time step). Steps are forgiven only
// once: two unrelated level shifts within StepMemory read as a staircase.
package trend
