package watchdog

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// The seed's nice-to-have growth targets, declared here once: goroutines under 5/min, FDs
// under 2/min. A run scales them by how far the configured rules move the must-haves from the
// seed's ([DefaultRules]): with Rules["goroutines"] noticing at 5/min instead of 10, the
// nice-to-have is 2.5/min.
const (
	seedGoroutinesNicePerMin = 5
	seedFDsNicePerMin        = 2
)

// smokeTargetsFrom reads a run's targets from the configured rules (Config.Rules with the
// pools' rules merged in) and the pools' names: the must-haves are the goroutines and fds
// rules' lowest growth thresholds, the reuse target the highest reuse floor the pools' rules
// set ([HTTPRules]: the seed's 80%), 0 when a pool's rules set none.
func smokeTargetsFrom(rules map[string]Rule, pools []string) SmokeTargets {
	g, f := lowestGrowth(rules[SeriesGoroutines]), lowestGrowth(rules[SeriesFDs])
	seed := DefaultRules()
	tg := SmokeTargets{
		GoroutinesPerMin: g, FDsPerMin: f,
		GoroutinesNicePerMin: g * seedGoroutinesNicePerMin / lowestGrowth(seed[SeriesGoroutines]),
		FDsNicePerMin:        f * seedFDsNicePerMin / lowestGrowth(seed[SeriesFDs]),
		ReuseRatio:           seedReuseRatio, // shown, not judged, without a pool
	}
	if len(pools) > 0 {
		tg.ReuseRatio = 0
		for _, p := range pools {
			if r := rules[HTTPSeries(p, HTTPReuseRatio)]; r.BelowLevel > LevelOK {
				tg.ReuseRatio = max(tg.ReuseRatio, r.Below)
			}
		}
	}
	return tg
}

// lowestGrowth is the lowest growth threshold the rule sets, 0 when none.
func lowestGrowth(r Rule) float64 {
	for _, v := range []float64{r.NoticePerMin, r.WarningPerMin, r.CriticalPerMin} {
		if v > 0 {
			return v
		}
	}
	return 0
}

// perMin prints a threshold as the seed does: "10/min", "2.5/min".
func perMin(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "/min" }

// last returns the last checkpoint taken (not missed), if any.
func (r *smokeRun) last() (SmokeCheckpoint, bool) {
	cps := r.rep.Checkpoints
	for i := len(cps) - 1; i >= 0; i-- {
		if !cps[i].Missed {
			return cps[i], true
		}
	}
	return SmokeCheckpoint{}, false
}

// evaluate checks the seed's criteria against the checkpoints so far. final: the run is over;
// before that, a criterion that cannot be judged yet is pending, never failed.
func (r *smokeRun) evaluate(final bool) (crit []SmokeCriterion, passed bool, reasons []string) {
	rep := &r.rep
	tg := rep.Targets
	last, have := r.last()
	cps := rep.Checkpoints
	lastTaken := len(cps) == r.n && !cps[r.n-1].Missed && r.stoppedWhy == ""
	add := func(c SmokeCriterion) { crit = append(crit, c) }

	full := SmokeCriterion{Name: "Test completes full " + durLabel(rep.Duration), Must: true, Passed: lastTaken}
	done := time.Duration(0)
	if have {
		done = r.offset(last.Index)
	}
	full.Value = fmt.Sprintf("%s of %s", durLabel(done), durLabel(rep.Duration))
	if !final {
		full.Value += " so far"
		full.Pending = true
	}
	add(full)

	rateCrit := func(name string, must bool, limit float64, get func(SmokeCheckpoint) (float64, bool)) SmokeCriterion {
		c := SmokeCriterion{Name: name, Must: must}
		if limit <= 0 {
			c.NotApplicable, c.Passed, c.Value = true, true, "no growth rule configured"
			return c
		}
		if !have {
			c.Value = "no checkpoint yet"
			c.Pending = !final
			return c
		}
		v, ok := get(last)
		if !ok {
			c.NotApplicable, c.Passed, c.Value = true, true, "FDs are not measurable on this system"
			return c
		}
		c.Passed = v < limit
		c.Value = rate(v) + "/min"
		return c
	}
	gor := func(c SmokeCheckpoint) (float64, bool) { return c.GoroutineRatePerMin, true }
	fd := func(c SmokeCheckpoint) (float64, bool) { return c.FDRatePerMin, c.FDsAvailable }
	gorMust := rateCrit("Goroutine leak rate <"+perMin(tg.GoroutinesPerMin), true, tg.GoroutinesPerMin, gor)
	fdMust := rateCrit("FD leak rate <"+perMin(tg.FDsPerMin), true, tg.FDsPerMin, fd)
	add(gorMust)
	add(fdMust)
	add(SmokeCriterion{Name: "Zero restarts", Must: true, Passed: rep.Restarts == 0, Value: fmt.Sprintf("%d restarts", rep.Restarts)})

	httpc := SmokeCriterion{Name: "HTTP metrics available throughout", Must: true}
	idle := SmokeCriterion{Name: "HTTP idle connections >0"}
	reuse := SmokeCriterion{Name: "Connection reuse rate >" + strconv.FormatFloat(100*tg.ReuseRatio, 'f', -1, 64) + "%"}
	if len(rep.HTTPPools) == 0 {
		for _, c := range []*SmokeCriterion{&httpc, &idle, &reuse} {
			c.NotApplicable, c.Value = true, "no HTTP pool configured"
		}
		httpc.Passed = true
	} else {
		avail, maxIdle, sumIdle, n := 0, 0.0, 0.0, 0
		for _, c := range cps {
			if c.HTTPAvailable {
				avail++
				maxIdle = max(maxIdle, c.HTTP.Idle)
				sumIdle += c.HTTP.Idle
				n++
			}
		}
		httpc.Passed = len(cps) > 0 && avail == len(cps)
		httpc.Pending = !final && len(cps) == 0
		httpc.Value = fmt.Sprintf("%d of %d checkpoints", avail, len(cps))
		if n == 0 {
			idle.Value, reuse.Value = "no HTTP figures yet", "no HTTP figures yet"
			idle.Pending, reuse.Pending = !final, !final
		} else {
			idle.Passed = maxIdle > 0
			idle.Value = fmt.Sprintf("avg %s, max %s", strconv.FormatFloat(sumIdle/float64(n), 'f', 2, 64), count(maxIdle, true))
			if tg.ReuseRatio <= 0 {
				reuse.NotApplicable, reuse.Passed, reuse.Value = true, true, "no reuse rule configured"
			} else if last.HTTP != nil {
				reuse.Passed = last.HTTP.ReuseRatio > tg.ReuseRatio
				reuse.Value = strconv.FormatFloat(100*last.HTTP.ReuseRatio, 'f', 1, 64) + "%"
			} else {
				reuse.Value = "not available at the last checkpoint"
			}
		}
	}
	add(httpc)
	add(idle)
	add(reuse)
	add(rateCrit("Goroutine growth <"+perMin(tg.GoroutinesNicePerMin), false, tg.GoroutinesNicePerMin, gor))
	add(rateCrit("FD growth <"+perMin(tg.FDsNicePerMin), false, tg.FDsNicePerMin, fd))

	passed = true
	for _, c := range crit {
		if c.Must && !c.Passed && !c.Pending {
			passed = false
		}
	}
	if !final {
		return crit, passed, nil
	}
	if r.stoppedWhy != "" {
		reasons = append(reasons, "the run did not complete: "+r.stoppedWhy)
	} else if !lastTaken {
		reasons = append(reasons, "the run did not complete: its last checkpoint was missed")
	}
	if have {
		if tg.GoroutinesPerMin > 0 && last.GoroutineRatePerMin >= tg.GoroutinesPerMin {
			reasons = append(reasons, fmt.Sprintf("goroutines grew %s/min (%s over %s, %s to %s), at or over the %s must-have",
				rate(last.GoroutineRatePerMin), signed(last.GoroutineGrowth), durLabel(last.Elapsed.Round(time.Second)),
				count(rep.Baseline.Goroutines, true), count(last.Goroutines, true), perMin(tg.GoroutinesPerMin)))
		}
		if tg.FDsPerMin > 0 && last.FDsAvailable && last.FDRatePerMin >= tg.FDsPerMin {
			reasons = append(reasons, fmt.Sprintf("file descriptors grew %s/min (%s over %s, %s to %s), at or over the %s must-have",
				rate(last.FDRatePerMin), signed(last.FDGrowth), durLabel(last.Elapsed.Round(time.Second)),
				count(rep.Baseline.FDs, true), count(last.FDs, true), perMin(tg.FDsPerMin)))
		}
	} else {
		reasons = append(reasons, "no checkpoint was taken")
	}
	if rep.Restarts > 0 {
		reasons = append(reasons, fmt.Sprintf("the process restarted %d times during the run", rep.Restarts))
	}
	if !httpc.Passed {
		reasons = append(reasons, "HTTP metrics were not available at every checkpoint ("+httpc.Value+")")
	}
	if passed {
		reasons = append(reasons, "every must-have holds: ran "+full.Value+", goroutines "+gorMust.Value+" (<"+perMin(tg.GoroutinesPerMin)+
			"), FDs "+fdMust.Value+" (<"+perMin(tg.FDsPerMin)+"), no restart")
	}
	for _, c := range crit {
		if !c.Must && !c.Passed && !c.NotApplicable && have {
			reasons = append(reasons, "nice-to-have not met: "+c.Name+" ("+c.Value+")")
		}
	}
	return crit, passed, reasons
}

// growthEvidence lists the series that grew from the run's baseline to final, the most
// alarming first: the detector's level, then growth relative to the baseline (bytes and counts
// do not compare by their raw rates).
func growthEvidence(r *smokeRun, final map[string]float64, snap Snapshot) []SmokeGrowth {
	rep := &r.rep
	if rep.BaselineAt.IsZero() {
		return nil
	}
	m := rep.Completed.Sub(rep.BaselineAt).Minutes()
	var out []SmokeGrowth
	for name, b := range r.baseVals {
		f, ok := final[name]
		if !ok || f <= b || name == SeriesFDLimit {
			continue
		}
		g := SmokeGrowth{Series: name, Baseline: b, Final: f, Growth: f - b}
		if m > 0 {
			g.RatePerMin = g.Growth / m
		}
		if s, ok := snap.Lookup(name); ok {
			g.Level, g.DetectorRatePerMin = s.Level, s.RatePerMin
		}
		out = append(out, g)
	}
	rel := func(g SmokeGrowth) float64 { return g.Growth / max(g.Baseline, 1) }
	sort.Slice(out, func(i, j int) bool {
		if out[i].Level != out[j].Level {
			return out[i].Level > out[j].Level
		}
		if ri, rj := rel(out[i]), rel(out[j]); ri != rj {
			return ri > rj
		}
		return out[i].Series < out[j].Series
	})
	return out
}
