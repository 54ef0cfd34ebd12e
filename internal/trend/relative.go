package trend

import (
	"fmt"
	"math"
	"time"
)

// Relative thresholds. A rule's percentages per hour are turned into per-minute thresholds at
// the series' latest value before each sample is graded: pct/100 × max(value, PctOf) / 60,
// taken as the level's threshold where it is lower than the per-minute one (or where that is
// unset). They grade the window estimate: growth sustained over a whole Window. The fast rule
// (a leak fast enough to show before the window has filled, or during warm-up) grades the
// per-minute thresholds only: its bars, a rise of twice a threshold's worth of Window, are
// made to stand out of a series' noise at that rate, and the percentages of a small heap are
// well inside its jitter (0.48 MiB/min against readings that move by MiBs with the requests
// in flight at each collection).

// relative reports whether r has a relative threshold.
func (r Rule) relative() bool {
	return r.NoticePctPerHour > 0 || r.WarningPctPerHour > 0 || r.CriticalPctPerHour > 0
}

// relativeProblems lists the bad relative fields of r.
func (r Rule) relativeProblems() []string {
	var bad []string
	th := []struct {
		name string
		v    float64
	}{{"NoticePctPerHour", r.NoticePctPerHour}, {"WarningPctPerHour", r.WarningPctPerHour}, {"CriticalPctPerHour", r.CriticalPctPerHour}, {"PctOf", r.PctOf}}
	for _, x := range th {
		if math.IsNaN(x.v) || math.IsInf(x.v, 0) {
			bad = append(bad, fmt.Sprintf("%s must be a finite number (got %v)", x.name, x.v))
		}
	}
	if r.PctAfter < 0 {
		bad = append(bad, fmt.Sprintf("PctAfter must be >= 0 (got %v)", r.PctAfter))
	}
	if r.PctOf < 0 {
		bad = append(bad, fmt.Sprintf("PctOf must be >= 0 (got %v)", r.PctOf))
	}
	th = th[:3]
	for i := 0; i < len(th); i++ {
		for j := i + 1; j < len(th); j++ {
			if th[i].v > 0 && th[j].v > 0 && th[i].v >= th[j].v {
				bad = append(bad, fmt.Sprintf("%s (%g) must be below %s (%g)", th[i].name, th[i].v, th[j].name, th[j].v))
			}
		}
	}
	return bad
}

// At returns r with its per-minute growth thresholds as they stand for a series at value v:
// each level's relative threshold, pct/100 × max(v, PctOf) per hour, replaces the per-minute
// one where it is lower or where that is unset. A rule without percentages is returned as it
// is; so is every field but the three per-minute thresholds.
func (r Rule) At(v float64) Rule {
	if !r.relative() {
		return r
	}
	of := r.PctOf
	if !math.IsNaN(v) && v > of {
		of = v
	}
	set := func(abs *float64, pct float64) {
		if pct <= 0 {
			return
		}
		rel := pct / 100 * of / 60
		if rel <= 0 {
			return
		}
		if *abs <= 0 || rel < *abs {
			*abs = rel
		}
	}
	set(&r.NoticePerMin, r.NoticePctPerHour)
	set(&r.WarningPerMin, r.WarningPctPerHour)
	set(&r.CriticalPerMin, r.CriticalPctPerHour)
	return r
}

// atAge is [Rule.At] for a series whose first sample is age old: r itself before PctAfter.
func (r Rule) atAge(v float64, age time.Duration) Rule {
	if age < r.PctAfter {
		return r
	}
	return r.At(v)
}

// Thresholds returns the rule the window estimate grades by now: the detector's rule with its
// relative thresholds turned into per-minute ones at the series' latest value ([Rule.At]).
// For a rule without percentages it is the rule as given.
func (d *Detector) Thresholds() Rule { return d.wr }
