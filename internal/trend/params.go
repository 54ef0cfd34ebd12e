package trend

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// ErrInvalid is wrapped by every error that Params.Validate, Rule.Validate and New return.
var ErrInvalid = errors.New("trend: invalid configuration")

// Rule says how one series is judged. Its zero value judges nothing: every check is off until
// a threshold is set. Growth thresholds are in units of the series per minute; a threshold <= 0
// disables that level. Every check feeds the same hysteresis (Params.Confirm, Params.Resolve).
type Rule struct {
	// NoticePerMin, WarningPerMin and CriticalPerMin grade the series' sustained growth per
	// minute, as estimated over Params.Window. When several are set they must increase:
	// notice < warning < critical.
	NoticePerMin, WarningPerMin, CriticalPerMin float64
	// NoticePctPerHour, WarningPctPerHour and CriticalPctPerHour grade the same growth
	// relative to the series' level: percent of max(value, PctOf) per hour. Where a level has
	// both an absolute and a relative threshold, it is raised at the lower of the two (see
	// relative.go): "warning at 2 MiB/min or 10 %/h of max(live, 288 MiB)" catches a slow leak
	// of a small heap by the percentage and a fast leak of a large one by the rate. Set ones
	// must increase with the level, like the per-minute ones.
	NoticePctPerHour, WarningPctPerHour, CriticalPctPerHour float64
	// PctOf is the least level the percentages are taken of (a small heap growing 10 %/h is
	// growing by little), in units of the series. 0: the value itself.
	PctOf float64
	// PctAfter is how long after the first sample the percentages start to grade; before,
	// only the per-minute thresholds do. A growth slow enough to be caught only by the
	// percentages takes hours to matter, and a cache filled at start-up still grows by a
	// fraction of its thresholds for half an hour after its fast fill. 0: from the start.
	PctAfter time.Duration
	// ExhaustWarning and ExhaustCritical raise warning (critical) when the series' trend reaches
	// its limit within that horizon, whatever the rate. They apply only where Step gets a limit.
	// Zero disables; ExhaustCritical must be shorter than ExhaustWarning when both are set. A
	// value at or over the limit is critical when either is set.
	ExhaustWarning, ExhaustCritical time.Duration
	// OnIncrease, when above OK, is the level raised while the series (a counter, such as HTTP
	// errors) has increased within the last Params.Window.
	OnIncrease Level
	// Below and BelowLevel raise BelowLevel while the value is under Below (after warm-up).
	// With BelowWhile set (a series name, typically a request counter), only while that series
	// has increased within the last Window: "no idle connection while requests flow"; the
	// caller evaluates that condition and passes it to Step. BelowLevel OK disables.
	Below      float64
	BelowLevel Level
	BelowWhile string
}

// growth reports whether r grades growth or exhaustion.
func (r Rule) growth() bool {
	return r.NoticePerMin > 0 || r.WarningPerMin > 0 || r.CriticalPerMin > 0 || r.relative() ||
		r.ExhaustWarning > 0 || r.ExhaustCritical > 0
}

// Validate reports every bad field of r in one error wrapping ErrInvalid: NaN or infinite
// thresholds, enabled thresholds out of order (notice < warning < critical), negative
// durations, an ExhaustCritical not shorter than ExhaustWarning, levels that are not levels,
// and a BelowWhile without a BelowLevel.
func (r Rule) Validate() error { return joinBad("rule", r.Problems()) }

// Problems lists every bad field of r, each naming the field, without the ErrInvalid
// wrapping; it is what Validate reports, for callers that collect problems of their own.
func (r Rule) Problems() []string {
	var bad []string
	th := []struct {
		name string
		v    float64
	}{{"NoticePerMin", r.NoticePerMin}, {"WarningPerMin", r.WarningPerMin}, {"CriticalPerMin", r.CriticalPerMin}, {"Below", r.Below}}
	for _, x := range th {
		if math.IsNaN(x.v) || math.IsInf(x.v, 0) {
			bad = append(bad, fmt.Sprintf("%s must be a finite number (got %v)", x.name, x.v))
		}
	}
	th = th[:3]
	// enabled thresholds must increase with the level
	for i := 0; i < len(th); i++ {
		for j := i + 1; j < len(th); j++ {
			if th[i].v > 0 && th[j].v > 0 && th[i].v >= th[j].v {
				bad = append(bad, fmt.Sprintf("%s (%g) must be below %s (%g)", th[i].name, th[i].v, th[j].name, th[j].v))
			}
		}
	}
	bad = append(bad, r.relativeProblems()...)
	if r.ExhaustWarning < 0 {
		bad = append(bad, fmt.Sprintf("ExhaustWarning must be >= 0 (got %v)", r.ExhaustWarning))
	}
	if r.ExhaustCritical < 0 {
		bad = append(bad, fmt.Sprintf("ExhaustCritical must be >= 0 (got %v)", r.ExhaustCritical))
	}
	if r.ExhaustWarning > 0 && r.ExhaustCritical > 0 && r.ExhaustCritical >= r.ExhaustWarning {
		bad = append(bad, fmt.Sprintf("ExhaustCritical (%v) must be shorter than ExhaustWarning (%v)", r.ExhaustCritical, r.ExhaustWarning))
	}
	if r.OnIncrease > Critical {
		bad = append(bad, fmt.Sprintf("OnIncrease is not a level (%d)", r.OnIncrease))
	}
	if r.BelowLevel > Critical {
		bad = append(bad, fmt.Sprintf("BelowLevel is not a level (%d)", r.BelowLevel))
	}
	if r.BelowWhile != "" && r.BelowLevel == OK {
		bad = append(bad, fmt.Sprintf("BelowWhile %q is set but BelowLevel is ok", r.BelowWhile))
	}
	return bad
}

// threshold returns the growth threshold of level l (0 when disabled or l is OK).
func (r Rule) threshold(l Level) float64 {
	switch l {
	case Notice:
		return r.NoticePerMin
	case Warning:
		return r.WarningPerMin
	case Critical:
		return r.CriticalPerMin
	}
	return 0
}

// Params tunes a Detector. Every zero field takes its default, most of them derived from
// Window so that a 6 s window sampled every 200 ms behaves like a 5 min window sampled every
// 10 s. DefaultParams returns the defaults filled in. Params is plain data, safe to copy.
type Params struct {
	// Window is the span of the growth estimate. Default 5 min. Shorter is faster and noisier.
	Window time.Duration
	// Warmup: samples this long after the first one are not used for the window estimate
	// (pools filling at start-up are not growth); they are searched for cycles (see
	// CycleMemory) and graded by the fast rule at the bar of the highest threshold, so a leak
	// that starts with the process is still caught (see the package docs, "Warm-up and fast
	// leaks"). Default 5 min; set it explicitly for short windows. A negative value disables
	// warm-up.
	Warmup time.Duration
	// QuietWarmup makes the warm-up quiet: growth in it raises nothing, not even by the fast
	// rule; a value at its limit, or one the growth takes to its limit within a Window, is
	// still critical. For a series whose start-up fills are many times its thresholds (a
	// live heap whose caches fill at tens of MiB/min, judged at a few MiB/min): the fast
	// rule's warm-up bar would take such a fill for a leak.
	QuietWarmup bool
	// FastEvidence is the rise the fast rule needs before it supports a level, in
	// thresholds × Window: a level is supported once the series rose FastEvidence × its
	// threshold × Window over the newest segments, growing steadily. Default 2, the rise a
	// leak at the threshold makes in two windows; in (0, 8]. Lower is sooner, for a series
	// whose readings are few and whose Window is long (the live heap's).
	FastEvidence float64
	// FastSteadySpan, when set, makes the fast rule also require steady growth over the
	// newest two segments of at least this length (see fast.go): a fill that decelerates
	// fails there even where readings jitter enough to look steady over shorter ones.
	// Default 0: off. At most Window/3.
	FastSteadySpan time.Duration
	// Slots is the number of time slots per Window; each keeps only the slot's lowest sample.
	// It fixes the memory: O(Slots) whatever the sampling interval. Default 10; 4..64.
	Slots int
	// MinSpan is how much post-warm-up data (from the oldest to the newest slot in the window) is
	// needed before the estimate is Ready. Default Window: a window shorter than a sawtooth's
	// period would take its ramp for growth.
	MinSpan time.Duration
	// Confirm is how long a higher level must be supported by consecutive evaluations before it
	// is raised. Default Window/4.
	Confirm time.Duration
	// Resolve is how long a lower level must be supported before the level goes down.
	// Default Window/2.
	Resolve time.Duration
	// ResolveRatio: a level is kept while the rate stays at or over ResolveRatio times its
	// threshold (hysteresis). Default 0.6; in (0, 1].
	ResolveRatio float64
	// StepFactor: an envelope rise between neighbouring slots larger than StepFactor times the
	// noise scale (and than StepFactor times the typical rise) is a one-time level shift and is
	// left out of the growth estimate. Default 5; > 1.
	StepFactor float64
	// StepSettle: a step counts towards a staircase only once the raised level has held this
	// long (a burst that returns to the floor within StepSettle is not a step). Default Window/3.
	StepSettle time.Duration
	// StepMemory: two or more level shifts upward within StepMemory are a staircase leak and
	// count as growth. Default 4*Window.
	StepMemory time.Duration
	// CycleMemory is how far back, before the Window, the detector looks for excursions that
	// came back down (a sawtooth's ramps, long bursts), and so the longest cycle it waits out:
	// while such an excursion is remembered, the floor is taken over that long a span and a
	// rise counts as growth only once it outlasts it. Default 3*Window. Memory is O(Slots ×
	// (1 + CycleMemory/Window)).
	CycleMemory time.Duration
	// ExhaustWindow is the span of the longer-term floor trend used for exhaustion forecasts.
	// Default 3*Window.
	ExhaustWindow time.Duration
}

// DefaultParams returns the defaults with every derived field filled in.
func DefaultParams() Params {
	return Params{Window: 5 * time.Minute}.withDefaults()
}

// withDefaults fills zero fields; it does not validate.
func (p Params) withDefaults() Params {
	if p.Window == 0 {
		p.Window = 5 * time.Minute
	}
	if p.Warmup == 0 {
		p.Warmup = 5 * time.Minute
	}
	if p.Slots == 0 {
		p.Slots = 10
	}
	if p.MinSpan == 0 {
		p.MinSpan = p.Window
	}
	if p.Confirm == 0 {
		p.Confirm = p.Window / 4
	}
	if p.Resolve == 0 {
		p.Resolve = p.Window / 2
	}
	if p.ResolveRatio == 0 {
		p.ResolveRatio = 0.6
	}
	if p.StepFactor == 0 {
		p.StepFactor = 5
	}
	if p.StepSettle == 0 {
		p.StepSettle = p.Window / 3
	}
	if p.StepMemory == 0 {
		p.StepMemory = 4 * p.Window
	}
	if p.ExhaustWindow == 0 {
		p.ExhaustWindow = 3 * p.Window
	}
	if p.FastEvidence == 0 {
		p.FastEvidence = fastEvidence
	}
	if p.CycleMemory == 0 {
		p.CycleMemory = 3 * p.Window
	}
	return p
}

// Validate reports every bad field of p (after defaults are applied to zero fields) in one
// error wrapping ErrInvalid.
func (p Params) Validate() error {
	q := p.withDefaults()
	var bad []string
	if q.Window < 0 {
		bad = append(bad, fmt.Sprintf("Window=%v is negative", q.Window))
	}
	if q.Slots < 4 || q.Slots > 64 {
		bad = append(bad, fmt.Sprintf("Slots=%d is outside 4..64", q.Slots))
	} else if q.Window > 0 && q.Window/time.Duration(q.Slots) <= 0 {
		bad = append(bad, fmt.Sprintf("Window=%v is too short for %d slots", q.Window, q.Slots))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"MinSpan", q.MinSpan}, {"Confirm", q.Confirm}, {"Resolve", q.Resolve}, {"StepSettle", q.StepSettle}, {"StepMemory", q.StepMemory}, {"CycleMemory", q.CycleMemory}} {
		if d.v < 0 {
			bad = append(bad, fmt.Sprintf("%s=%v is negative", d.name, d.v))
		}
	}
	if q.MinSpan > q.Window {
		bad = append(bad, fmt.Sprintf("MinSpan=%v exceeds Window=%v", q.MinSpan, q.Window))
	}
	if q.Window > 0 && q.CycleMemory > 8*q.Window {
		bad = append(bad, fmt.Sprintf("CycleMemory=%v exceeds 8×Window=%v", q.CycleMemory, 8*q.Window))
	}
	if q.ExhaustWindow < q.Window {
		bad = append(bad, fmt.Sprintf("ExhaustWindow=%v is shorter than Window=%v", q.ExhaustWindow, q.Window))
	}
	if !(q.ResolveRatio > 0 && q.ResolveRatio <= 1) {
		bad = append(bad, fmt.Sprintf("ResolveRatio=%v is outside (0, 1]", q.ResolveRatio))
	}
	if q.FastSteadySpan < 0 || (q.Window > 0 && q.FastSteadySpan > q.Window/3) {
		bad = append(bad, fmt.Sprintf("FastSteadySpan=%v is outside [0, Window/3]", q.FastSteadySpan))
	}
	if !(q.FastEvidence > 0 && q.FastEvidence <= 8) {
		bad = append(bad, fmt.Sprintf("FastEvidence=%v is outside (0, 8]", q.FastEvidence))
	}
	if !(q.StepFactor > 1) || math.IsInf(q.StepFactor, 0) {
		bad = append(bad, fmt.Sprintf("StepFactor=%v must be a finite number > 1", q.StepFactor))
	}
	return joinBad("params", bad)
}

func joinBad(what string, bad []string) error {
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalid, what, strings.Join(bad, "; "))
}
