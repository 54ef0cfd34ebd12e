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
//	v := d.Step(sinceStart, float64(runtime.NumGoroutine()), 0, true)
//	if v.Changed { log(v.Level, v.Cause, v.RatePerMin) }
//
// [ReadCSV] parses recorded traces. The watchdog's engine (watchdog.Replay, which bench/replay
// runs and the watchdog package's tests score on the detection corpus) drives one Detector per
// series; this package has no replay of its own, so what is scored is what ships.
//
// # What is estimated
//
// A leak is sustained growth of the floor: the level the series returns to between bursts.
// Step keeps, for each time slot (Window/Slots, 30 s by default), only the lowest sample and its
// time, in a ring that also holds CycleMemory of older slots. The estimate is refreshed only when
// a sample opens a new slot; it then:
//
//  1. takes the slot minima m_i of the last Slots slots (the newest is the open slot, holding
//     the sample that opened it); a burst or an upward outlier vanishes in a slot's minimum as
//     long as it does not fill the whole slot;
//  2. runs a 3-slot running median over them, so one odd slot, high or low, is dropped (the
//     newest slot is taken as it is: a low value there can only flatten the estimate);
//  3. takes the floor over whole cycles: if, within CycleMemory, the series rose significantly
//     and came back down (a pool recycled: a sawtooth; a burst that filled slots), each point
//     becomes the minimum over the longest such excursion before it (see below);
//  4. forms the lower envelope e_i = min(m_i ... m_newest): the lowest the series goes from then
//     on. A sawtooth (pools recycled), bursts and a warm-up that levelled off leave it flat; a
//     leak raises it at the leak's rate;
//  5. looks for a one-time step: the largest rise between neighbouring envelope points, if it is
//     over StepFactor times both the noise scale (the median absolute deviation of slot-to-slot
//     changes, at least the data's resolution) and the typical rise, is cut out (the later
//     points are lowered by it);
//  6. takes the Theil–Sen slope of the envelope (the median of all pairwise slopes, found by
//     quickselect), in units per minute. Theil–Sen ignores up to ~29% of odd points.
//
// The slope raises a level only when the growth is also consistent and significant (it is
// kept, for hysteresis, without either): Kendall's tau of the window's raw slot minima,
// floored over the cycle lag (step 3, without the median filter) is at least 0.4 (most
// points above the earlier ones), and the floor's rise over the window (slope × span) is at
// least 3 × the noise scale (below). The lower envelope of a series whose minima jump at random
// rises at its newest points, which have not yet had the chance to come back down; a pool
// recycled every few seconds looks like that at slots of a few seconds (its slot minima alias
// into jumps of most of its amplitude), and its slope would otherwise be graded. A leak raises
// most minima over the earlier ones and its rise is many times the scatter of its
// slot-to-slot changes (the median change, the trend, is taken out of it). The staircase rate
// is not gated (its steps are cut out of the envelope). [Verdict].Span is the span the graded
// rate was taken over.
//
// Steps are remembered: a step whose new level held flat for StepSettle is recorded (once: the
// same step seen again at a shifted slot, or one that does not lift the floor clearly above a
// known step, is the known step). Two or more comparable recorded steps (each at least a quarter
// of the largest) within StepMemory are a staircase leak (a batch job leaking a chunk every few
// minutes), graded at total size / (number of steps × mean interval), decaying once the next
// step is overdue. [Verdict].RatePerMin is the larger of the envelope slope and the staircase
// rate, and [Verdict].Cause says which.
//
// # Cycles: why a sawtooth is not a leak
//
// The envelope of step 4 is right-censored: its newest points have not yet had the chance to
// come back down. A pool that fills for minutes and is then recycled shows, during each fill, a
// rising tail exactly like the start of a leak; with a period near Window it would be graded as
// one. Nothing in a single ramp tells the two apart, but the past does: the series has already
// come back down. So at each slot the detector looks through its history (CycleMemory, default
// 3×Window, plus the window) for excursions, on the raw slot minima with a return level that
// must hold for two slots (so a single low outlier is no return): for each slot, the stretch
// since the latest earlier slot that was no higher than the return level (within twice the
// noise). An excursion counts when it rose more than StepFactor × noise above the return level,
// at an average of at least ResolveRatio × the lowest rate threshold over its length (a slower
// one could never be graded). The longest such excursion, plus one slot, is the cycle lag L, and
// step 3 takes each point's minimum over the L slots before it, so a rise counts as growth only
// once it has outlasted the longest cycle the series has shown. A monotone leak, a one-time
// step, a warm-up that levels off and noise have no excursion: L = 0 and they are graded with no
// lag. A leak under a sawtooth is graded from the cycle bottoms, about one period later; a leak
// under long bursts about one burst later. An excursion is forgotten once it leaves the history.
// Warm-up samples are not used for the window estimate, but they are kept in the history so
// that a pool recycled during warm-up is known as a cycle when grading starts, and the fast rule
// (below) grades them.
//
// The exhaustion trend (below) uses the same cycle lag, converted to its own slots.
//
// # Warm-up and fast leaks
//
// Warm-up exists so that pools filling at start-up are not called leaks; it must not hide leaks
// that start with the process. A fill decelerates and ends, a burst or a step sits in one place,
// a recycled pool comes back down; a leak does none of these. So besides the window estimate,
// which needs Warmup + MinSpan of data, a fast rule is refreshed at every slot from the first
// sample on. Over the newest Window of raw slot minima (floored over the cycle lag, lower
// envelope), for segments of k = 1 .. Slots/3 slots, it takes the rates of the two newest
// segments and the rise R over the last three (the oldest clipped at the first sample). Level
// l is supported when
//
//  1. the newest rate is at l's threshold, at least 0.8 × the rate before (not decelerating)
//     and that one at least 0.5 × it (growth in both segments, not one step);
//  2. R >= 2 × the threshold × Window (the rise a leak at the threshold makes in two windows),
//     and R >= 2 × the largest fall in the history (a series that came down by F may rise by F
//     again: a pool recycled, a burst that ended), measured on the samples (each slot keeps its
//     highest sample and its largest fall besides its minimum), not only on slot minima: a
//     pool recycled within each slot shows its whole amplitude there;
//  3. in warm-up, the threshold in 2. is the highest enabled one whatever l (the rise must be
//     beyond any start-up fill), and after it, until the window estimate is Ready, at least the
//     warning threshold.
//
// The fast rule's level is kept while its rate and rise stay over ResolveRatio × those bars.
// Where Step gets a limit and the rule enables exhaustion, steady growth (the newest rate of a
// segment pair that passes 1. and the fall test) that takes the value to the limit within a
// Window is critical on that sample (CauseExhaustion), and a value at its limit is critical on
// that sample (CauseLimit), warm-up or not. Growth that decelerates is not extrapolated past
// where it tends: from rate r1 to r2 < r1 over dt, an exponential decay tends to
// v + r2 × dt / ln(r1/r2); when every passing segment pair tends to a level under the limit
// (a start-up fill levelling off), there is no forecast. A steady leak's noise makes that level
// many Windows away, so its forecast stands.
// Its confirmation is Confirm × threshold / rate: the evidence needed shrinks with the speed,
// so a leak a hundred times over the critical rate is critical within two slots of its start.
// With the defaults (30 s slots) a leak at 5× the critical rate is critical after about 2 min,
// at 10× or more after about one minute, from the first sample or later; leaks between 1× and
// about 2× the threshold wait for the window estimate (warm-up + window + Confirm from start).
//
// # Cost
//
// Step is O(1) within a slot: it updates the open slot's minimum (no division while t stays in
// the slot), checks the limit and the exhaustion horizon against the cached trend, and runs the
// confirmation and resolve clocks. When a sample opens a slot, the estimate is refreshed: O(Slots ×
// (Slots + lag)) for the window (45 Theil–Sen pairs at the defaults), the cycle search over the
// history and the fast rule, and, for a series with a limit, the exhaustion trend (435 pairs);
// once per 30 s at the defaults. Step never allocates. Memory is O(Slots × (1 + CycleMemory/Window)).
// In figures: well under a microsecond for a Step inside a slot, microseconds to tens of
// microseconds for one that closes a slot (BenchmarkStep; bench/README.md, "What does the
// detector cost per sample?"). The slot close includes the consistency gate (Kendall's tau over
// the window's slot minima), the per-slot maximum and fall, and the deceleration ceiling (two
// half-window Theil–Sen slopes, computed only when the linear forecast would raise a level).
//
// # Levels, confirmation and hysteresis
//
// Every rule of a [Rule] feeds one hysteresis: growth and exhaustion (below), the floor rule
// (Below/BelowLevel: the value under Below while the caller's condition, passed to Step, holds;
// not during warm-up) and the increase rule (OnIncrease: the value went up within the last
// Window). Each sample yields the level the rules support (raise) and the level they keep
// (hold); the clocks below turn those into the level. A value at its limit and an increase are
// raised on the sample that shows them, without Confirm; every level resolves alike.
//
// A level is raised when the rate has been at or over its threshold for Confirm without a break
// (each level keeps its own clock, so a fast leak goes straight to critical). A level is kept
// while the rate stays at or over ResolveRatio × its threshold, and lowered only after Resolve
// below that: a leak that stops resolves once, without flapping. During Warmup after the first
// sample only the fast rule, the limit and the increase rule raise levels. After warm-up the
// window estimate is Ready once MinSpan of data is in.
// Without enough data (also after a gap longer than Window) the level is held. The rate changes
// only at slot boundaries; the clocks run on every Step.
//
// # Exhaustion
//
// Where Step gets a limit > 0 and the rule enables it, a second ring of 3×Slots slots over
// ExhaustWindow gives a longer, steadier floor trend (refreshed once per its slot, and only for
// a series that has a limit). Time to exhaustion is (limit − current floor) / that rate; within
// Rule.ExhaustCritical it is critical, within Rule.ExhaustWarning a warning, whatever the rate
// thresholds say, unless that trend decelerates (the Theil–Sen rate of the newer half of its
// envelope below that of the older) towards a level under the limit (the same projection as
// the fast rule's): a fill levelling off is not forecast. Exhaustion levels are confirmed and resolved like growth levels (the horizons
// are stretched by 1/ResolveRatio for keeping a level). A value at or over the limit is critical
// with [CauseLimit].
//
// # Parameters
//
// Every zero field of [Params] takes its default; most derive from Window, so a 6 s window with
// 200 ms sampling behaves like the default 5 min window with 10 s sampling.
//
//	Window        5m           span of the estimate
//	Warmup        5m           window estimate off, fast rule at the top bar; < 0 disables
//	Slots         10           slots per Window (4..64); the estimate is refreshed once per slot
//	MinSpan       Window       data needed before Ready
//	Confirm       Window/4     a higher level must hold this long (75 s)
//	Resolve       Window/2     a lower level must hold this long (150 s)
//	ResolveRatio  0.6          hysteresis: keep a level down to 0.6 × its threshold
//	StepFactor    5            one-time step: rise > 5 × noise and > 5 × typical rise
//	StepSettle    Window/3     a step must hold flat this long to count for a staircase
//	StepMemory    4×Window     steps within this span make a staircase
//	CycleMemory   3×Window     history searched for cycles; the longest cycle waited out
//	ExhaustWindow 3×Window     span of the exhaustion trend
//
// # Latency and false alarms
//
// Theil–Sen on a window reaches ~80% of a new leak's rate once the leak fills ~65% of the
// window, so with the defaults a leak over its threshold by 20% or more is graded about
// 3–4 minutes after it starts, plus Confirm. Refreshing the estimate once per slot instead of on
// every sample costs at most one slot (30 s) and usually nothing: the slot that opens is taken
// with its first sample. A longer Window or Confirm resists longer bursts at the price
// of latency; a shorter one is faster and noisier. The cycle lag trades latency for false alarms
// only where the series has shown cycles: a leak under a sawtooth is graded about one period
// later, and a leak under bursts that fill slots one burst later.
//
// The randomised robustness test (robust_test.go: 15 kinds of goroutine trace and 16 of FD
// trace, 40 seeds each: sawtooth periods 2–15 min, bursts up to 1.5 min, fast and slow
// warm-ups, steps, spikes, irregular sampling, diurnal cycles; leaks at 1.2–8× the notice rate,
// steady, late, stair-wise, under bursts, under a sawtooth, stopping, to a limit) fails on any
// false alarm, miss or stopped leak left unresolved, as the watchdog package's
// TestCorpusTraces and TestCorpusEarly fail on the public detection traces. The latencies they
// measure are in bench/README.md ("How does the detector score?").
//
// A pool that adds a worker every 250 ms up to 40 and recycles them all (a 10 s period: 1 to 4
// slots at Windows of 30 s to 2 min) raises nothing at any Window from 30 s to 5 min, with a
// 10 s warm-up, sampled every second, every 250 ms or at random instants (TestShortWindowsQuiet).
//
// Known limits: with a short Window the exhaustion trend spans 3 Windows (90 s at 30 s), too
// short to see a slow start-up fill (time constant of minutes) decelerate: it can still be
// forecast to reach the limit. A sawtooth whose ramp runs over the notice rate for longer than Window and that
// has not come back down a full cycle since the series started (only a partial cycle in
// warm-up) is a leak until its first complete cycle; so is a first excursion longer than
// CycleMemory. Steps are forgiven only once: two comparable unrelated level shifts within
// StepMemory read as a staircase. A warm-up still rising faster than the notice rate after
// Warmup + MinSpan is graded as growth.
//
// # Series read now and then, relative thresholds
//
// A series that is new only now and then (the live heap changes only at a garbage collection,
// seconds to minutes apart) is fed with [Detector.Step] when read and [Detector.Unread] on the
// ticks between: an unread tick estimates nothing, resets no clock and resolves nothing, but a
// raise the last reading supported confirms on time instead of waiting for the next reading.
// A Rule's percentages per hour ([Rule].WarningPctPerHour and the like, of max(value,
// [Rule].PctOf), from [Rule].PctAfter) are turned into per-minute thresholds at the latest value
// and grade the window estimate at whichever of the two is lower ([Rule.At]); the fast rule
// keeps the per-minute ones. [Params].QuietWarmup makes the warm-up raise nothing from growth,
// [Params].FastEvidence sets the fast rule's rise (default 2 Windows of the threshold) and
// [Params].FastSteadySpan makes it also require steady growth over segments that long, which a
// decelerating fill fails even under a collector's jitter. The watchdog's live-heap series uses
// all four (watchdog.HeapLiveRule).
package trend
