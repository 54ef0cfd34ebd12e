package trend

import (
	"fmt"
	"math"
	"time"
)

// DefaultRules returns the default rules by series name, from the smoke-test guide:
// goroutines notice 10, warning 20, critical 50 per minute; fds 5, 15, 30 per minute with
// exhaustion warnings at 6 h and critical at 1 h against the FD limit.
func DefaultRules() map[string]Rule {
	return map[string]Rule{
		"goroutines": {NoticePerMin: 10, WarningPerMin: 20, CriticalPerMin: 50},
		"fds":        {NoticePerMin: 5, WarningPerMin: 15, CriticalPerMin: 30, ExhaustWarning: 6 * time.Hour, ExhaustCritical: time.Hour},
	}
}

// LimitColumn maps a series to the trace column holding its limit.
var limitColumn = map[string]string{"fds": "fd_limit"}

// Replay runs one Detector per series of tr that has a default rule, in time order, and calls
// emit for every change of level (t in seconds). Columns without a rule are ignored. It returns
// the first error of emit or of New.
func Replay(tr *Trace, p Params, emit func(series string, t float64, v Verdict) error) error {
	rules := DefaultRules()
	type run struct {
		name  string
		d     *Detector
		vals  []float64
		limit []float64
	}
	var runs []run
	for _, name := range tr.Columns {
		r, ok := rules[name]
		if !ok {
			continue
		}
		d, err := New(p, r)
		if err != nil {
			return fmt.Errorf("trend: replay %s: %w", name, err)
		}
		vals, _ := tr.Column(name)
		var lim []float64
		if lc, ok := limitColumn[name]; ok {
			lim, _ = tr.Column(lc)
		}
		runs = append(runs, run{name, d, vals, lim})
	}
	for k, ts := range tr.T {
		at := time.Duration(math.Round(ts * float64(time.Second)))
		for _, r := range runs {
			limit := math.NaN()
			if r.limit != nil {
				limit = r.limit[k]
			}
			v := r.d.Step(at, r.vals[k], limit, true)
			if v.Changed {
				if err := emit(r.name, ts, v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
