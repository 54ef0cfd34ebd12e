package watchdog

import (
	"fmt"
	"math"
	"time"

	"github.com/leakwatch/leakwatch/internal/trend"
)

// engine applies the rules to samples. Every rule (growth, exhaustion, limit, increase,
// floor) is judged by the pure detector core (internal/trend), one detector per series with a
// rule, under one Confirm/Resolve hysteresis; the engine only reads the samples in, works out
// the floor rules' "while" condition (another series increased within the window) and turns
// verdicts into alerts. It is pure: time comes in with the samples, and the live watchdog and
// [Replay] drive the same code, so a recorded trace reproduces the live verdicts exactly. step
// allocates nothing.
type engine struct {
	series  []engineSeries
	window  time.Duration
	origin  time.Time
	started bool
	changed []int // indices of series whose level changed in the last step
}

type engineSeries struct {
	name   string
	rule   Rule
	while  int // index of rule.BelowWhile, or -1
	det    *trend.Detector
	phase  time.Duration // shifts this series' slot grid, so that slots close on different ticks
	window time.Duration // the detector's window (the live heap's is longer than Config.Window)

	verdict      trend.Verdict
	level        Level
	prevLevel    Level
	cause        Cause
	value        float64 // this step's sample; NaN when unread
	limit        float64
	prev         float64 // last valid value, NaN before one: what alerts report
	lastIncrease time.Duration
	increased    bool // lastIncrease is set
	changedAt    time.Time
}

// newEngine builds an engine over the series named in names, judged by cfg.Rules. Series with
// no rule are carried (their values are kept) but never leave ok.
func newEngine(cfg Config, names []string) (*engine, error) {
	e := &engine{window: cfg.Window, changed: make([]int, 0, len(names))}
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	var p problems
	for n := range cfg.Rules {
		if _, ok := index[n]; !ok {
			p.addf("Rules[%q]: unknown series (have %v)", n, names)
		}
	}
	e.series = make([]engineSeries, len(names))
	for i, n := range names {
		s := &e.series[i]
		s.name, s.while, s.prev, s.window = n, -1, math.NaN(), cfg.Window
		r, ok := cfg.Rules[n]
		if !ok || r == (Rule{}) {
			continue
		}
		s.rule = r
		if r.BelowWhile != "" {
			j, ok := index[r.BelowWhile]
			if !ok {
				p.addf("Rules[%q].BelowWhile: unknown series %q", n, r.BelowWhile)
			}
			s.while = j
		}
		// validated with cfg (Config.validate) before any engine is built
		det, err := trend.New(seriesParams(cfg, n), r)
		if err != nil {
			p.addf("Rules[%q]: %v", n, err)
			continue
		}
		s.det = det
		s.window = det.Params().Window
		// The detector refreshes its estimate when a slot closes; spread the series over
		// the slot so that they do not all pay for it on the same tick.
		slot := det.Params().Window / time.Duration(det.Params().Slots)
		s.phase = slot * time.Duration(i) / time.Duration(len(names))
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return e, nil
}

func trendParams(cfg Config) trend.Params {
	// Zero means the default in both, and a negative Warmup (NoWarmup) none in both, so the
	// fields pass through unchanged.
	return trend.Params{Window: cfg.Window, Warmup: cfg.Warmup, Confirm: cfg.Confirm, Resolve: cfg.Resolve}
}

// step judges one sample taken at now: vals and lims are indexed like the engine's series (NaN
// for a value that could not be read, NaN or <= 0 for no limit). Afterwards e.changed lists the
// series whose level changed.
func (e *engine) step(now time.Time, vals, lims []float64) {
	e.changed = e.changed[:0]
	if !e.started {
		e.origin, e.started = now, true
	}
	t := now.Sub(e.origin)
	for i := range e.series {
		s := &e.series[i]
		v, lim := vals[i], lims[i]
		s.value, s.limit = v, lim
		if !math.IsNaN(v) && !math.IsNaN(s.prev) && v > s.prev {
			s.lastIncrease, s.increased = t, true
		}
		if !math.IsNaN(v) {
			s.prev = v
		}
	}
	for i := range e.series {
		s := &e.series[i]
		if s.det == nil {
			continue
		}
		// An unread sample (a slow series between its reads, the live heap between two
		// collections, a failed probe) estimates nothing and resets no clock, but a raise
		// the last reading supported confirms on time (trend.Detector.Unread) rather than at
		// the next reading, which for the live heap may be minutes away.
		if math.IsNaN(s.value) {
			s.verdict = s.det.Unread(t + s.phase)
		} else {
			flowing := true
			if s.while >= 0 {
				w := &e.series[s.while]
				flowing = w.increased && t-w.lastIncrease < e.window
			}
			s.verdict = s.det.Step(t+s.phase, s.value, s.limit, flowing)
		}
		lv, cause := s.verdict.Level, causeOf(s.verdict.Cause)
		if lv > LevelOK && s.verdict.Cause == trend.CauseRecovered {
			cause = s.cause // lowered to a level whose rule still holds
		}
		if lv != s.level {
			s.prevLevel, s.level, s.cause, s.changedAt = s.level, lv, cause, now
			e.changed = append(e.changed, i)
		} else if lv != LevelOK {
			s.cause = cause
		}
	}
}

func causeOf(c trend.Cause) Cause {
	switch c {
	case trend.CauseGrowth:
		return CauseGrowth
	case trend.CauseStaircase:
		return CauseStaircase
	case trend.CauseExhaustion:
		return CauseExhaustion
	case trend.CauseLimit:
		return CauseLimit
	case trend.CauseIncrease:
		return CauseIncrease
	case trend.CauseBelow:
		return CauseBelow
	}
	return CauseNone
}

// alert describes the level change of series i in the last step.
func (e *engine) alert(i int) Alert {
	s := &e.series[i]
	prev := s.prevLevel
	a := Alert{
		Time: s.changedAt, Series: s.name, Level: s.level, Previous: prev, Cause: s.cause,
		Value: s.prev, Window: e.span(s), RatePerMin: s.verdict.RatePerMin, Baseline: s.verdict.Baseline,
	}
	if s.limit > 0 && !math.IsNaN(s.limit) {
		a.Limit = s.limit
	}
	if s.verdict.Exhaustion > 0 {
		a.TimeToExhaustion = s.verdict.Exhaustion
	}
	a.Reason = e.reason(s, prev)
	return a
}

func (e *engine) reason(s *engineSeries, prev Level) string {
	r := s.rule
	if s.det != nil {
		r = s.det.Thresholds() // relative thresholds as they stood at the last reading
	}
	if seriesUnit(s.name) == unitBytes && (s.cause == CauseGrowth || s.cause == CauseStaircase) {
		return bytesReason(s, r, e.span(s))
	}
	switch s.cause {
	case CauseGrowth:
		return fmt.Sprintf("%s growing %.2f/min over %v (%s at >= %g/min)", s.name, s.verdict.RatePerMin, e.span(s), s.level, threshold(r, s.level))
	case CauseStaircase:
		return fmt.Sprintf("%s rising in repeated steps, %.2f/min (%s at >= %g/min)", s.name, s.verdict.RatePerMin, s.level, threshold(r, s.level))
	case CauseExhaustion:
		return fmt.Sprintf("%s at %g will reach its limit %g in %v at %.2f/min (%s within %v)",
			s.name, s.prev, s.limit, s.verdict.Exhaustion.Round(time.Second), s.verdict.RatePerMin, s.level, horizon(r, s.level))
	case CauseLimit:
		return fmt.Sprintf("%s has reached its limit %g", s.name, s.limit)
	case CauseIncrease:
		return fmt.Sprintf("%s increased within the last %v (now %g)", s.name, e.window, s.prev)
	case CauseBelow:
		if s.while >= 0 {
			return fmt.Sprintf("%s is %g, below %g, while %s grows", s.name, s.prev, r.Below, e.series[s.while].name)
		}
		return fmt.Sprintf("%s is %g, below %g", s.name, s.prev, r.Below)
	}
	return fmt.Sprintf("%s back to ok from %s (growth %.2f/min over %v)", s.name, prev, s.verdict.RatePerMin, e.span(s))
}

// span is the span the series' rate was judged over: the detector's (shorter than the Window
// when a fast leak was graded early), rounded for reading, or the series' Window when it gave none.
func (e *engine) span(s *engineSeries) time.Duration {
	sp := s.verdict.Span
	switch {
	case sp <= 0 || sp > s.window:
		return s.window
	case sp >= 10*time.Second:
		return sp.Round(time.Second)
	}
	return sp.Round(100 * time.Millisecond)
}

func threshold(r Rule, l Level) float64 {
	switch l {
	case LevelNotice:
		return r.NoticePerMin
	case LevelWarning:
		return r.WarningPerMin
	case LevelCritical:
		return r.CriticalPerMin
	}
	return 0
}

func horizon(r Rule, l Level) time.Duration {
	if l == LevelCritical {
		return r.ExhaustCritical
	}
	return r.ExhaustWarning
}

// bytesReason is the growth reason of a series in bytes, in binary units:
// "heap_live_bytes growing 6 MiB/min over 20m0s (warning at >= 2 MiB/min)".
func bytesReason(s *engineSeries, r Rule, window time.Duration) string {
	rate, th := rateHuman(s.name, s.verdict.RatePerMin), rateHuman(s.name, threshold(r, s.level))
	if s.cause == CauseStaircase {
		return fmt.Sprintf("%s rising in repeated steps, %s (%s at >= %s)", s.name, rate, s.level, th)
	}
	return fmt.Sprintf("%s growing %s over %v (%s at >= %s)", s.name, rate, window, s.level, th)
}
