package trend

import (
	"fmt"
	"math"
	"time"
)

// Verdict is the outcome of one Detector.Step.
type Verdict struct {
	// Level is the level after this sample; Prev the level before it.
	Level, Prev Level
	// Changed is Level != Prev.
	Changed bool
	// RatePerMin is the growth estimate that was graded, in units per minute: the larger of the
	// floor slope and the staircase rate, or the fast rule's (see the package docs). 0 before
	// Ready unless the fast rule or the limit forecast graded it.
	RatePerMin float64
	// Span is how much data RatePerMin was estimated over: the window estimate's span (at most
	// Params.Window), or the fast rule's segments when it set the rate (shorter the faster the
	// leak). 0 when RatePerMin is 0 or comes from the staircase.
	Span time.Duration
	// Ready says the estimate had enough data (Params.MinSpan after warm-up).
	Ready bool
	// Exhaustion > 0 is the projected time until the floor reaches the limit at the longer-term
	// trend; 0 means no forecast (no limit, no growth, or not ready). When the limit is already
	// reached Exhaustion is 0 and Cause is CauseLimit.
	Exhaustion time.Duration
	// Cause is the reason for Level: when Changed and going down, the rule that raises the lower
	// level now (a warning on an increase after a critical under the floor), else
	// CauseRecovered.
	Cause Cause
	// Baseline is the floor the growth is measured from: the lower envelope at the start of the
	// window, with a one-time step taken out; where the fast rule set the rate, the floor at the
	// start of the segments it measured (so a leak graded before the window is ready has one).
	Baseline float64
	// Floor is the current floor (the lower envelope at the newest slot).
	Floor float64
}

// Detector grades the growth of one series. It is pure: no I/O, no clock, no goroutines.
// Memory is fixed by New; Step does not allocate. A Detector is not safe for concurrent use:
// give each series its own, and call Step from one goroutine at a time.
type Detector struct {
	p       Params
	r       Rule
	wr      Rule    // the window estimate's rule: r, its percentages turned into rates (relative.go)
	rel     bool    // r has relative thresholds
	pending Cause   // the cause of the level the last Step supported, for Unread (unread.go)
	minRate float64 // excursions slower than this (per minute) are not cycles worth waiting out
	short   *floorRing
	long    *floorRing

	growth   bool // the rule grades growth or exhaustion: the rings are fed
	started  bool
	first    time.Duration // first sample
	prevV    float64       // previous accepted value
	lastInc  time.Duration // last sample above the previous one
	incOK    bool          // lastInc is set
	urgent   Level         // this sample's level raised without Confirm (limit reached, counter increased)
	lastT    time.Duration // newest accepted sample
	dataFrom time.Duration // first sample after warm-up
	fed      bool

	// the estimate, refreshed when a slot closes
	ready       bool
	rate        float64
	growthCause Cause
	raise, hold Level // levels the rate supports (raise) and keeps (hold)
	base, floor float64
	span        time.Duration // the window estimate's span
	lag         int           // cycle lag of the short ring, in slots
	longOK      bool          // longRate is valid
	longStale   bool          // a long slot closed since longRate was computed
	longRate    float64       // exhaustion trend, per minute
	longCeil    float64       // the level the exhaustion trend tends to (+Inf: not decelerating)

	level   Level
	cause   Cause
	since   [4]time.Duration // since[l]: start of the current run where level l is supported
	sinceOK [4]bool
	downAt  time.Duration // start of the current run below the hold level
	downOn  bool
	downMax Level // highest hold level seen during the down run

	// the fast rule (evaluateFast), refreshed when a slot closes
	fastRaise, fastHold Level
	fastRate            float64
	fastSpan            time.Duration // the segments fastRate was measured over
	fastBase            float64       // the floor at the start of those segments
	fastTrend           float64       // rate of steady growth, whatever the bars: for the limit forecast
	fastTrendSpan       time.Duration
	fastCeil            float64 // the level the steady segment pairs tend to (+Inf: one does not decelerate)

	steps  [8]stepRec
	nsteps int

	last Verdict
}

type stepRec struct {
	slot int64
	t    time.Duration
	size float64
	top  float64 // floor level right after the step
}

// New returns a Detector for one series. Zero Params fields take their defaults. The error
// wraps ErrInvalid and names every bad field of p and r.
func New(p Params, r Rule) (*Detector, error) {
	pe, re := p.Validate(), r.Validate()
	if pe != nil || re != nil {
		switch {
		case pe != nil && re != nil:
			return nil, fmt.Errorf("%w; %v", pe, re)
		case pe != nil:
			return nil, pe
		default:
			return nil, re
		}
	}
	p = p.withDefaults()
	minRate := math.Inf(1)
	for l := Notice; l <= Critical; l++ {
		if th := r.At(0).threshold(l); th > 0 { // at PctOf: the lowest the relative ones go
			minRate = min(minRate, p.ResolveRatio*th)
		}
	}
	if math.IsInf(minRate, 1) {
		minRate = 0
	}
	// the short ring keeps CycleMemory of history besides its window; the long ring needs as
	// much history as the longest cycle lag, in its own slots
	shortLag := int((p.CycleMemory + p.Window/time.Duration(p.Slots) - 1) / (p.Window / time.Duration(p.Slots)))
	longSlots := min(3*p.Slots, 64)
	longWidth := p.ExhaustWindow / time.Duration(longSlots)
	longLag := 0
	if longWidth > 0 {
		longLag = int((time.Duration(shortLag)*(p.Window/time.Duration(p.Slots)) + longWidth - 1) / longWidth)
	}
	d := &Detector{
		p: p, r: r, wr: r, rel: r.relative(), minRate: minRate, growth: r.growth(),
		short: newFloorRing(p.Window, p.Slots, shortLag),
		long:  newFloorRing(p.ExhaustWindow, longSlots, longLag),
	}
	d.short.wantTau = true
	return d, nil
}

// Params returns the parameters in use, with defaults filled in.
func (d *Detector) Params() Params { return d.p }

// Step feeds one sample: t is the time since an arbitrary origin, v the value, limit the
// value's known limit (<= 0 or NaN: none). A NaN or infinite v (a failed probe) is skipped, and
// so is a t earlier than the newest accepted sample (state is never rewound); a skipped sample
// returns the previous verdict with Changed false. Forward jumps of any size are fine: slots
// that saw no sample are simply empty, and after a gap longer than Window the estimate is not
// Ready until MinSpan of new data has arrived; while not Ready the level is held.
//
// The growth estimate is refreshed only when t opens a new slot (Window/Slots); within a slot
// Step updates the slot's minimum and runs O(1) checks (limit, exhaustion horizon,
// confirmation and resolve clocks).
func (d *Detector) Step(t time.Duration, v, limit float64, flowing bool) Verdict {
	if math.IsNaN(v) || math.IsInf(v, 0) || (d.started && t < d.lastT) {
		out := d.last
		out.Prev, out.Changed = out.Level, false
		return out
	}
	if !d.started {
		d.started, d.first, d.prevV = true, t, v
	} else if v > d.prevV {
		d.lastInc, d.incOK = t, true
	}
	if d.rel {
		d.wr = d.r.atAge(v, t-d.first)
	}
	d.prevV = v
	d.lastT = t
	prev := d.level
	out := Verdict{Prev: prev}
	warm := d.p.Warmup > 0 && t-d.first < d.p.Warmup
	raise, hold, raiseCause := OK, OK, CauseNone
	d.urgent = OK

	if d.growth {
		raise, hold, raiseCause = d.stepGrowth(t, v, limit, warm, &out)
	}
	// limit: a value at its limit is critical on this sample, warm-up or not; so is one that
	// steady growth (the fast rule's trend) takes to the limit within a Window
	if limit > 0 && (d.r.ExhaustWarning > 0 || d.r.ExhaustCritical > 0) {
		switch {
		case v >= limit:
			raise, hold, raiseCause, d.urgent = Critical, Critical, CauseLimit, Critical
		case d.fastTrend > 0 && d.fastCeil >= limit:
			left := time.Duration((limit - v) / d.fastTrend * float64(time.Minute))
			if left <= d.p.Window {
				raise, hold, raiseCause, d.urgent = Critical, Critical, CauseExhaustion, Critical
				out.Exhaustion = max(left, time.Nanosecond)
				if d.fastTrend > out.RatePerMin {
					out.RatePerMin, out.Span = d.fastTrend, d.fastTrendSpan
				}
			}
		}
	}
	// increase: a counter that went up within the last Window
	if l := d.r.OnIncrease; l > OK && d.incOK && t-d.lastInc < d.p.Window {
		if d.lastInc == t {
			d.urgent = max(d.urgent, l)
		}
		if l > raise {
			raise, raiseCause = l, CauseIncrease
		}
		hold = max(hold, l)
	}
	// floor: under Below while the rule's condition holds (not during warm-up: pools start empty)
	if l := d.r.BelowLevel; l > OK && !warm && v < d.r.Below && flowing {
		if l > raise {
			raise, raiseCause = l, CauseBelow
		}
		hold = max(hold, l)
	}
	if warm && prev == OK && raise == OK {
		out.Level, out.Cause = OK, CauseWarmup
		d.resetClocks()
		d.last = out
		return out
	}
	return d.settle(t, prev, raise, hold, raiseCause, out)
}

// resetClocks stops every confirmation and resolve clock.
func (d *Detector) resetClocks() {
	d.sinceOK = [4]bool{}
	d.downOn = false
}

// stepGrowth feeds the growth and exhaustion estimates and returns the levels they support:
// raise (at the thresholds), hold (at ResolveRatio × the thresholds) and the cause. While the
// estimate is not Ready after warm-up, hold is the current level: without data nothing resolves.
func (d *Detector) stepGrowth(t time.Duration, v, limit float64, warm bool, out *Verdict) (raise, hold Level, cause Cause) {
	if warm {
		// not graded by the window estimate, but kept: a pool recycled during warm-up shows
		// the series' cycle; the fast rule grades what no fill can be
		if d.short.add(t, v) {
			d.evaluateFast(true)
		}
		d.long.add(t, v)
		if d.p.QuietWarmup {
			return OK, OK, CauseNone
		}
		return d.fastVerdict(out, OK, d.fastRaise, CauseNone)
	}
	if !d.fed {
		d.fed, d.dataFrom = true, t
		d.short.gradeFrom(t)
		d.long.gradeFrom(t)
	}
	if d.short.add(t, v) {
		d.evaluate(t)
		d.evaluateFast(false)
	}
	if d.long.add(t, v) {
		d.longStale = true
	}
	if !d.ready {
		return d.fastVerdict(out, OK, max(d.level, d.fastHold), CauseNone)
	}
	out.Ready = true
	out.Baseline, out.Floor = d.base, d.floor
	out.RatePerMin = d.rate
	if d.growthCause == CauseGrowth && d.rate != 0 {
		out.Span = d.span
	}
	raise, hold, cause = d.raise, d.hold, d.growthCause
	raise, hold, cause = d.fastVerdict(out, raise, hold, cause)

	// exhaustion: longer-term floor trend against the limit
	if limit > 0 && !math.IsNaN(limit) && (d.r.ExhaustWarning > 0 || d.r.ExhaustCritical > 0) {
		if d.longStale {
			// once per long slot, and only for a series with a limit
			le := d.long.estimate(d.p.MinSpan, d.p.StepFactor, d.minRate, d.longLag())
			d.longOK, d.longRate, d.longStale = le.ok, le.rate, false
			// the ceiling of decelerating growth, only where the forecast could raise a level
			d.longCeil = math.Inf(1)
			if le.ok && le.rate > 0 && v < limit {
				reach := max(d.r.ExhaustWarning, d.r.ExhaustCritical).Minutes() / d.p.ResolveRatio
				if (limit-le.floor)/le.rate <= reach {
					d.longCeil = d.long.envCeiling()
				}
			}
		}
		// a fill that decelerates towards a level under the limit is not extrapolated
		if v < limit && d.longOK && d.longRate > 0 && d.longCeil >= limit {
			left := max(limit-d.floor, 0)
			out.Exhaustion = time.Duration(left / d.longRate * float64(time.Minute))
			if out.Exhaustion <= 0 {
				out.Exhaustion = time.Nanosecond
			}
			xr, xh := exhaustLevel(out.Exhaustion, d.r, 1), exhaustLevel(out.Exhaustion, d.r, d.p.ResolveRatio)
			if xr > raise {
				raise, cause = xr, CauseExhaustion
			}
			if xh > hold {
				hold = xh
			}
		}
	}
	return raise, hold, cause
}

// settle runs the one hysteresis every rule shares: a level is raised once the rules have
// supported it (raise) for Confirm without a break, and lowered once they have supported only a
// lower one (hold) for Resolve without a break.
//
// Two conditions are facts rather than estimates and are raised on the sample that shows them,
// without waiting for Confirm: a value at its limit, and a counter that increased (d.urgent);
// they resolve like every other level.
func (d *Detector) settle(t time.Duration, prev, raise, hold Level, raiseCause Cause, out Verdict) Verdict {
	// per-level confirmation clocks for raising
	for l := Notice; l <= Critical; l++ {
		if raise >= l {
			if !d.sinceOK[l] {
				d.since[l], d.sinceOK[l] = t, true
			}
		} else {
			d.sinceOK[l] = false
		}
	}
	d.pending = raiseCause
	newLevel := prev
	for l := Critical; l > prev; l-- {
		if d.sinceOK[l] && (t-d.since[l] >= d.confirmFor(l) || l <= d.urgent) {
			newLevel = l
			d.cause = raiseCause
			break
		}
	}
	// resolving: hold level below the current one for Resolve
	if newLevel == prev && hold < prev {
		if !d.downOn {
			d.downOn, d.downAt, d.downMax = true, t, hold
		} else if hold > d.downMax {
			d.downMax = hold
		}
		if t-d.downAt >= d.p.Resolve {
			newLevel = d.downMax
			d.cause = CauseRecovered
			if newLevel > OK && raise >= newLevel {
				d.cause = raiseCause // lowered to a level another rule raises now: that is its cause
			}
			d.downOn = false
		}
	} else {
		d.downOn = false
	}
	if newLevel == OK && prev == OK {
		d.cause = CauseNone
	} else if newLevel == prev && newLevel > OK && raise >= newLevel {
		d.cause = raiseCause
	}
	d.level = newLevel
	out.Level, out.Changed, out.Cause = newLevel, newLevel != prev, d.cause
	d.last = out
	return out
}

// fastVerdict merges the fast rule's levels into raise and hold (from the window estimate, or
// OK and the held level before it is Ready): where the fast rule supports more, its rate and
// CauseGrowth are reported.
func (d *Detector) fastVerdict(out *Verdict, raise, hold Level, cause Cause) (Level, Level, Cause) {
	if d.fastRaise > raise {
		raise, cause = d.fastRaise, CauseGrowth
		if d.fastRate >= out.RatePerMin {
			out.RatePerMin, out.Span, out.Baseline = d.fastRate, d.fastSpan, d.fastBase
		}
	}
	return raise, max(hold, d.fastHold), cause
}

// confirmFor is how long level l must be supported before it is raised: Confirm, shortened in
// proportion to the fast rule's rate over l's threshold when the fast rule supports l (a leak
// ten times over the threshold is confirmed ten times sooner).
func (d *Detector) confirmFor(l Level) time.Duration {
	if l > d.fastRaise || d.fastRate <= 0 {
		return d.p.Confirm
	}
	th := d.r.threshold(l)
	if th <= 0 || d.fastRate <= th {
		return d.p.Confirm
	}
	return time.Duration(float64(d.p.Confirm) * th / d.fastRate)
}

// The fast rule's constants (see the package docs, "Warm-up and fast leaks").
const (
	fastEvidence = 2.0 // the default of Params.FastEvidence: the rise needed for level l is fastEvidence × l's threshold × Window
	fastSteady   = 0.8 // the newest segment's rate at least this × the one before: not decelerating
	fastAccel    = 0.5 // the one before at least this × the newest: growth in both, not one step
	fastCycles   = 2.0 // the rise must be this many times the largest fall in the history
)

// evaluateFast refreshes the fast rule when a slot has closed. Over the newest Window of slot
// minima (3-slot median, floor over the cycle lag, lower envelope), for segments of k slots
// (k = 1 .. a third of the window), it takes the rise R over the last three segments (the
// oldest clipped at the first sample) and the rates of the two newest. A level is supported
// when the newest rate is at its threshold, it is at least fastSteady × the rate before (growth
// that decelerates, as a fill does, fails) and that one at least fastAccel × it (growth that
// sits in one segment, as a step or a burst's edge does, fails), and R is at least fastEvidence × the threshold × Window: the rise a leak at the
// threshold makes in two windows, so a faster leak shows it sooner. In warm-up the bar is that
// of the highest enabled threshold for every level: what a start-up fill cannot be.
func (d *Detector) evaluateFast(warm bool) {
	d.fastRaise, d.fastHold, d.fastRate, d.fastTrend, d.fastBase = OK, OK, 0, 0, 0
	d.fastSpan, d.fastTrendSpan, d.fastCeil = 0, 0, math.Inf(-1)
	r := d.short
	pts := r.history()
	if len(pts) < 3 {
		return
	}
	// the largest fall in the history: a series that has come down by F (a pool recycled, a
	// burst that ended) may rise by F again without leaking
	fall, hi := 0.0, math.Inf(-1)
	for _, q := range pts {
		fall = max(fall, hi-q.v, q.drop)
		hi = max(hi, q.hi)
	}
	lag := d.lag // the window estimate's, found on this very slot
	if warm {
		lag = r.cycleLag(d.p.StepFactor, d.minRate, r.h-r.n-1)
	}
	// the window's raw slot minima (an odd slot is dropped by the envelope, or sits in one
	// segment), floored over the cycle lag
	from := r.cur - int64(r.n)
	env := r.env[:0]
	for i := range pts {
		if pts[i].s < from {
			continue
		}
		v := pts[i].v
		for k := i - 1; k >= 0 && pts[k].s >= pts[i].s-int64(lag); k-- {
			v = min(v, pts[k].v)
		}
		env = append(env, point{s: pts[i].s, t: pts[i].t, v: v})
	}
	r.env = env
	n := len(env)
	if n < 3 {
		return
	}
	for i := n - 2; i >= 0; i-- {
		env[i].v = min(env[i].v, env[i+1].v)
	}
	top := Critical
	for top > OK && d.r.threshold(top) <= 0 {
		top--
	}
	if top == OK {
		return
	}
	last := n - 1
	if !d.steadyOver(env, last) {
		return
	}
	win := d.p.Window.Minutes()
	for k := 1; 2*k <= last && 3*k <= r.n; k++ {
		a, b, c := max(last-3*k, 0), last-2*k, last-k
		dtNew, dtMid := (env[last].t - env[c].t).Minutes(), (env[c].t - env[b].t).Minutes()
		if dtNew <= 0 || dtMid <= 0 {
			continue
		}
		rNew, rMid := (env[last].v-env[c].v)/dtNew, (env[c].v-env[b].v)/dtMid
		if rNew <= 0 || rMid <= 0 || rNew < fastSteady*rMid || rMid < fastAccel*rNew {
			continue
		}
		rise := env[last].v - env[a].v
		if rise < fastCycles*fall {
			continue
		}
		if rNew > d.fastTrend {
			d.fastTrend, d.fastTrendSpan = rNew, env[last].t-env[a].t
		}
		d.fastCeil = max(d.fastCeil, ceiling(rMid, rNew, (dtNew+dtMid)/2, env[last].v))
		for l := Notice; l <= Critical; l++ {
			th := d.r.threshold(l)
			if th <= 0 {
				continue
			}
			bar := d.p.FastEvidence * th * win
			switch {
			case warm:
				bar = d.p.FastEvidence * d.r.threshold(top) * win
			case !d.ready:
				bar = d.p.FastEvidence * max(th, d.r.threshold(min(Warning, top))) * win
			}
			if rNew >= th && rise >= bar && l > d.fastRaise {
				d.fastRaise = l
				if rNew > d.fastRate {
					d.fastRate, d.fastSpan, d.fastBase = rNew, env[last].t-env[a].t, env[a].v
				}
			}
			if rNew >= d.p.ResolveRatio*th && rise >= d.p.ResolveRatio*bar && l > d.fastHold {
				d.fastHold = l
			}
		}
	}
}

// longLag converts the short ring's cycle lag to slots of the long ring (at least 1 when the
// short ring found a cycle), so the exhaustion trend also takes the floor over whole cycles.
func (d *Detector) longLag() int {
	if d.lag <= 0 {
		return 0
	}
	w := d.short.width * time.Duration(d.lag)
	return int((w + d.long.width - 1) / d.long.width)
}

// windowTau is the consistency the window estimate needs to raise a level: Kendall's tau of
// the window's floored slot minima, before the lower envelope (see the package docs).
const windowTau = 0.4

// windowNoise: the window estimate raises a level only when the floor's rise over the window
// is at least this many times the noise scale of the slot-to-slot changes.
const windowNoise = 3.0

// evaluate refreshes the growth estimate when a slot has closed: the short ring's floor
// slope, the staircase, and the levels they support. Its cost is O(Slots²) (Theil–Sen pairs,
// cycle search) and it runs once per Window/Slots.
func (d *Detector) evaluate(t time.Duration) {
	se := d.short.estimate(d.p.MinSpan, d.p.StepFactor, d.minRate, -1)
	d.lag = se.lag
	d.ready = se.ok
	if !se.ok {
		d.rate = 0
		return
	}
	d.base, d.floor, d.span = se.base, se.floor, se.span
	// staircase: remember one-time steps; two or more within StepMemory are growth
	if se.jump > 0 && se.flatAfter && t-d.short.slotStart(se.jumpSlot+1) >= d.p.StepSettle {
		d.recordStep(se.jumpSlot, t, se.jump, se.jumpTop)
	}
	stair := d.stairRate(t)
	d.rate, d.growthCause = se.rate, CauseGrowth
	if stair > d.rate {
		d.rate, d.growthCause = stair, CauseStaircase
	}
	d.raise, d.hold = OK, OK
	for l := Notice; l <= Critical; l++ {
		th := d.wr.threshold(l) // with relative thresholds at the current level
		if th <= 0 {
			continue
		}
		if d.rate >= th && (d.growthCause == CauseStaircase || (se.tau >= windowTau && d.rate*se.span.Minutes() >= windowNoise*se.noise)) {
			d.raise = l
		}
		if d.rate >= d.p.ResolveRatio*th {
			d.hold = l
		}
	}
}

func exhaustLevel(left time.Duration, r Rule, ratio float64) Level {
	scale := func(h time.Duration) time.Duration { return time.Duration(float64(h) / ratio) }
	switch {
	case r.ExhaustCritical > 0 && left <= scale(r.ExhaustCritical):
		return Critical
	case r.ExhaustWarning > 0 && left <= scale(r.ExhaustWarning):
		return Warning
	}
	return OK
}

// recordStep remembers a one-time step, once per step: a step next to a known one (by slot),
// or one that does not lift the floor clearly above a known step's new level (the same step
// seen again, shifted by the cycle floor or the median filter), is the known step.
func (d *Detector) recordStep(slot int64, t time.Duration, size, top float64) {
	for i := 0; i < d.nsteps; i++ {
		s := &d.steps[i]
		if (slot >= s.slot-1 && slot <= s.slot+1) || top <= s.top+min(size, s.size)/2 {
			if size > s.size {
				s.size = size
			}
			return
		}
	}
	if d.nsteps == len(d.steps) {
		copy(d.steps[:], d.steps[1:])
		d.nsteps--
	}
	d.steps[d.nsteps] = stepRec{slot: slot, t: t, size: size, top: top}
	d.nsteps++
}

// stairRate is the growth rate of repeated steps: with n >= 2 comparable steps in StepMemory
// (each at least a quarter of the largest: a staircase repeats its step, and a small shift of
// the floor after a large one-time step is not a second stair), their total size over n mean
// intervals; it decays once the next step is overdue.
func (d *Detector) stairRate(now time.Duration) float64 {
	// expire
	k := 0
	big := 0.0
	for i := 0; i < d.nsteps; i++ {
		if now-d.steps[i].t <= d.p.StepMemory {
			d.steps[k] = d.steps[i]
			big = max(big, d.steps[i].size)
			k++
		}
	}
	d.nsteps = k
	n, total := 0, 0.0
	var first, last time.Duration
	for i := 0; i < k; i++ {
		if d.steps[i].size < big/4 {
			continue
		}
		if n == 0 {
			first = d.steps[i].t
		}
		last = d.steps[i].t
		total += d.steps[i].size
		n++
	}
	if n < 2 {
		return 0
	}
	interval := (last - first) / time.Duration(n-1)
	span := last - first + interval
	if now-first > span {
		span = now - first
	}
	if span <= 0 {
		return 0
	}
	return total / span.Minutes()
}
