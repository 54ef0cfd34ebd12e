package watchdog

import (
	"time"
)

// smokeRun is one run. Its report is the one stored form of the run: what /smoke shows, what
// the state file holds and what the result files are written from; the other fields are what
// only the schedule needs. Guarded by smokeState.mu.
type smokeRun struct {
	rep        SmokeReport // Verdict, Stalled, ExpectedEnd and provisional Criteria are derived in report
	cfg        SmokeConfig // ResultsDir and StateFile
	n          int         // checkpoints in the run
	next       int         // checkpoints done (taken or missed)
	loc        *time.Location
	resumedAt  time.Time
	stoppedWhy string
	memOnly    string // why the run is not saved to its state file; "" when it is (or has none)
	sentCPs    int    // checkpoints and lines already handed to the writer (stateDelta)
	sentLines  int
	baseVals   map[string]float64 // every series at the baseline, for the growth evidence
	chart      *smokeChart        // the run's own downsampled series, for the charts
}

// smokeMaxAlerts bounds the alerts a run keeps (the newest).
const smokeMaxAlerts = 256

func newSmokeRun(c SmokeConfig, now time.Time, pools []string, tg SmokeTargets) *smokeRun {
	r := &smokeRun{cfg: c, n: int(min(checkpointCount(c), smokeMaxCheckpoints)), loc: now.Location()}
	r.rep = SmokeReport{
		Status: SmokeRunning, Duration: c.Duration, Checkpoint: c.Checkpoint, Warmup: c.Warmup,
		Started: now, HTTPPools: append([]string(nil), pools...), Targets: tg,
	}
	r.chart = newSmokeChart(now, c.Warmup+c.Duration)
	return r
}

// checkpointCount is ceil(Duration/Checkpoint), without overflow for any positive values;
// 0 when either is not positive.
func checkpointCount(c SmokeConfig) int64 {
	if c.Duration <= 0 || c.Checkpoint <= 0 {
		return 0
	}
	n := int64(c.Duration / c.Checkpoint)
	if c.Duration%c.Checkpoint != 0 {
		n++
	}
	return n
}

// offset is the scheduled time of checkpoint i after the baseline.
func (r *smokeRun) offset(i int) time.Duration {
	return min(time.Duration(i)*r.rep.Checkpoint, r.rep.Duration)
}

func (r *smokeRun) dueAt(i int) time.Time { return r.rep.BaselineAt.Add(r.offset(i)) }

func (r *smokeRun) elapsed(now time.Time) time.Duration {
	if r.rep.BaselineAt.IsZero() {
		return 0
	}
	return now.Sub(r.rep.BaselineAt)
}

func (r *smokeRun) stamp(t time.Time) string { return t.In(r.loc).Format(time.UnixDate) }

func (r *smokeRun) verdict() string {
	switch r.rep.Status {
	case SmokePassed:
		return "PASS"
	case SmokeFailed:
		return "FAIL"
	}
	return ""
}

func (r *smokeRun) expectedEnd() time.Time {
	if r.rep.BaselineAt.IsZero() {
		return r.rep.Started.Add(r.rep.Warmup + r.rep.Duration)
	}
	return r.rep.BaselineAt.Add(r.rep.Duration)
}

// stalled: the next event is more than half a checkpoint overdue.
func (r *smokeRun) stalled(now time.Time) bool {
	if r.rep.Status != SmokeRunning {
		return false
	}
	due := r.rep.Started.Add(r.rep.Warmup)
	if !r.rep.BaselineAt.IsZero() {
		due = r.dueAt(r.next + 1)
		if r.rep.Restarts > 0 && r.resumedAt.After(due) {
			due = r.resumedAt
		}
	}
	return now.Sub(due) > r.rep.Checkpoint/2
}

// report returns a copy of the run the caller owns, with the derived fields filled in.
func (r *smokeRun) report(now time.Time) SmokeReport {
	rep := r.rep
	rep.Verdict, rep.Stalled, rep.ExpectedEnd = r.verdict(), r.stalled(now), r.expectedEnd()
	rep.Checkpoints = cloneCheckpoints(r.rep.Checkpoints)
	rep.HTTPPools = append([]string(nil), r.rep.HTTPPools...)
	rep.Growth = append([]SmokeGrowth(nil), r.rep.Growth...)
	rep.Alerts = append([]Alert(nil), r.rep.Alerts...)
	rep.Notes = append([]string(nil), r.rep.Notes...)
	rep.Lines = append([]string(nil), r.rep.Lines...)
	rep.ResultFiles = append([]string(nil), r.rep.ResultFiles...)
	if r.rep.Baseline != nil {
		b := *r.rep.Baseline
		b.HTTP = cloneHTTP(b.HTTP)
		rep.Baseline = &b
	}
	if rep.Status == SmokeRunning {
		rep.Criteria, _, _ = r.evaluate(false)
		rep.Reasons = nil
	} else {
		rep.Criteria = append([]SmokeCriterion(nil), r.rep.Criteria...)
		rep.Reasons = append([]string(nil), r.rep.Reasons...)
	}
	if rep.Checkpoints == nil {
		rep.Checkpoints = []SmokeCheckpoint{}
	}
	if rep.Reasons == nil {
		rep.Reasons = []string{}
	}
	return rep
}

func cloneHTTP(h *SmokeHTTP) *SmokeHTTP {
	if h == nil {
		return nil
	}
	c := *h
	return &c
}

func cloneCheckpoints(cps []SmokeCheckpoint) []SmokeCheckpoint {
	out := append([]SmokeCheckpoint(nil), cps...)
	for i := range out {
		out[i].HTTP = cloneHTTP(out[i].HTTP)
	}
	return out
}

// derive fills growth and rates from the baseline.
func (c *SmokeCheckpoint) derive(b SmokeSample) {
	c.GoroutineGrowth = c.Goroutines - b.Goroutines
	if c.FDsAvailable && b.FDsAvailable {
		c.FDGrowth = c.FDs - b.FDs
	} else {
		c.FDsAvailable = false
	}
	if m := c.Elapsed.Minutes(); m > 0 {
		c.GoroutineRatePerMin = c.GoroutineGrowth / m
		c.FDRatePerMin = c.FDGrowth / m
	}
	c.HTTPAvailable = c.HTTP != nil
}
