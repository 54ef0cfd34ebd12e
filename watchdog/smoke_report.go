package watchdog

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
)

// SmokeReport is a smoke run as [Watchdog.SmokeReport] and GET /smoke return it: the seed's
// output lines, the checkpoints, the must-have and nice-to-have criteria and the verdict. Its
// zero value is not meaningful; a watchdog without a run reports Status [SmokeNone]. JSON field
// names are those of /smoke.
type SmokeReport struct {
	// Status of the run; Verdict is "PASS" or "FAIL" once it has finished, "" before.
	Status  SmokeStatus `json:"status"`
	Verdict string      `json:"verdict"`
	// Stalled is true while the run is going but its next checkpoint (or baseline) is more
	// than half a Checkpoint overdue: 1.5 checkpoint intervals without one, the seed's
	// "no new checkpoints for > 3 minutes".
	Stalled bool `json:"stalled"`
	// Duration, Checkpoint and Warmup of the run.
	Duration   time.Duration `json:"duration_ns"`
	Checkpoint time.Duration `json:"checkpoint_ns"`
	Warmup     time.Duration `json:"warmup_ns"`
	// Started is when the run started, BaselineAt when its baseline was taken (zero during
	// warm-up), ExpectedEnd when its last checkpoint is due, Completed when it finished (zero
	// while running).
	Started     time.Time `json:"started"`
	BaselineAt  time.Time `json:"baseline_at,omitzero"`
	ExpectedEnd time.Time `json:"expected_end"`
	Completed   time.Time `json:"completed,omitzero"`
	// Baseline is nil during warm-up.
	Baseline *SmokeSample `json:"baseline"`
	// Checkpoints taken so far, in order; missed ones (the process was down) are marked.
	Checkpoints []SmokeCheckpoint `json:"checkpoints"`
	// Criteria are the seed's must-have and nice-to-have checks, provisional while running.
	Criteria []SmokeCriterion `json:"criteria"`
	// Reasons say in words why the run passed or failed (empty while running).
	Reasons []string `json:"reasons"`
	// Restarts counts the process restarts the run survived (with a StateFile).
	Restarts int `json:"restarts"`
	// HTTPPools are the names of the HTTP pools whose figures the checkpoints carry (summed).
	HTTPPools []string `json:"http_pools,omitempty"`
	// Growth is the evidence of a finished run: every series that grew from the baseline, the
	// fastest first.
	Growth []SmokeGrowth `json:"growth,omitempty"`
	// Alerts raised between the start and the end of the run.
	Alerts []Alert `json:"alerts,omitempty"`
	// Notes: restarts, state files set aside, probes not available.
	Notes []string `json:"notes,omitempty"`
	// Lines are the output lines so far, as written to Config.SmokeOutput.
	Lines []string `json:"lines"`
	// ResultFiles written to ResultsDir (names with the directory).
	ResultFiles []string `json:"result_files,omitempty"`
}

// SmokeSample is what a smoke run reads at its baseline and at each checkpoint.
type SmokeSample struct {
	// Time of the sample.
	Time time.Time `json:"time"`
	// Goroutines is runtime.NumGoroutine.
	Goroutines float64 `json:"goroutines"`
	// FDs is the number of open file descriptors; FDsAvailable is false where the system has
	// no FD probe (then FDs is 0).
	FDs          float64 `json:"fds"`
	FDsAvailable bool    `json:"fds_available"`
	// HTTP holds the HTTP pools' figures, summed over the pools; nil when no pool is configured
	// or its series could not be read.
	HTTP *SmokeHTTP `json:"http,omitempty"`
}

// SmokeHTTP is the HTTP pools' figures at one sample, summed over the pools (see
// [httppool.Stats] for what each counts). Requests, Errors and Responses5xx are counters since
// the pool was created; Open, Active, Idle and Waiting are connections or requests now.
type SmokeHTTP struct {
	Requests     float64 `json:"requests"`
	Errors       float64 `json:"errors"`
	Responses5xx float64 `json:"responses_5xx"`
	Open         float64 `json:"open"`
	Active       float64 `json:"active"`
	Idle         float64 `json:"idle"`
	// ReuseRatio is 0..1, weighted by requests over the pools.
	ReuseRatio float64 `json:"reuse_ratio"`
	Waiting    float64 `json:"waiting"`
}

// SmokeCheckpoint is one checkpoint line of a smoke run. Growth is counted from the baseline
// and rates are per minute since the baseline, as the seed's script computed them.
type SmokeCheckpoint struct {
	// Index counts from 1 to Of.
	Index int `json:"index"`
	Of    int `json:"of"`
	// Label is the scheduled offset as printed ("2min", "4s").
	Label string `json:"label"`
	// Elapsed is the time since the baseline (JSON: elapsed_s, in seconds).
	Elapsed time.Duration `json:"-"`
	// Missed is true when no sample was taken for this checkpoint.
	Missed bool `json:"missed,omitempty"`
	SmokeSample
	GoroutineGrowth     float64 `json:"goroutine_growth"`
	GoroutineRatePerMin float64 `json:"goroutine_rate_per_min"`
	FDGrowth            float64 `json:"fd_growth"`
	FDRatePerMin        float64 `json:"fd_rate_per_min"`
	// HTTPAvailable says whether the HTTP series could be read (false without a pool).
	HTTPAvailable bool `json:"http_available"`
}

type checkpointJSON SmokeCheckpoint

// MarshalJSON adds elapsed_s (seconds) to the fields.
func (c SmokeCheckpoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		checkpointJSON
		ElapsedS float64 `json:"elapsed_s"`
	}{checkpointJSON(c), c.Elapsed.Seconds()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *SmokeCheckpoint) UnmarshalJSON(b []byte) error {
	var x struct {
		checkpointJSON
		ElapsedS float64 `json:"elapsed_s"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*c = SmokeCheckpoint(x.checkpointJSON)
	if math.IsNaN(x.ElapsedS) || math.Abs(x.ElapsedS) > 1e9 {
		return fmt.Errorf("watchdog: elapsed_s out of range: %v", x.ElapsedS)
	}
	c.Elapsed = time.Duration(x.ElapsedS * float64(time.Second))
	return nil
}

// SmokeCriterion is one line of the seed's success checklist with its measured figure.
type SmokeCriterion struct {
	// Name is the seed's wording: "Goroutine leak rate <10/min".
	Name string `json:"name"`
	// Must is true for the must-have checks; the run passes only when every one holds.
	Must bool `json:"must"`
	// Passed says whether it holds (so far, while running).
	Passed bool `json:"passed"`
	// NotApplicable is true when the figure cannot be measured (no HTTP pool, no FD probe);
	// such a must-have counts as held and says why in Value.
	NotApplicable bool `json:"not_applicable,omitempty"`
	// Value is the measured figure in words: "1.50/min", "16s of 16s", "no HTTP pool configured".
	Value string `json:"value"`
}

// SmokeGrowth is one series that grew during a smoke run: its value at the baseline and at
// the end, the growth and the growth per minute between them.
type SmokeGrowth struct {
	Series     string  `json:"series"`
	Baseline   float64 `json:"baseline"`
	Final      float64 `json:"final"`
	Growth     float64 `json:"growth"`
	RatePerMin float64 `json:"rate_per_min"`
	// Level and DetectorRatePerMin are the detector's view at the end of the run.
	Level              Level   `json:"level"`
	DetectorRatePerMin float64 `json:"detector_rate_per_min"`
}

// smokeRun is one run's state, guarded by smokeState.mu.
type smokeRun struct {
	cfg         SmokeConfig
	n           int
	loc         *time.Location
	started     time.Time
	resumedAt   time.Time
	baselineAt  time.Time
	baseline    SmokeSample
	baseVals    map[string]float64
	cps         []SmokeCheckpoint
	next        int // checkpoints done (taken or missed)
	lines       []string
	restarts    int
	pools       []string
	notes       []string
	status      SmokeStatus
	completed   time.Time
	stoppedWhy  string
	criteria    []SmokeCriterion
	reasons     []string
	growth      []SmokeGrowth
	alerts      []Alert
	resultPaths []string
}

func newSmokeRun(c SmokeConfig, now time.Time, pools []string) *smokeRun {
	return &smokeRun{cfg: c, n: checkpointCount(c), loc: now.Location(), started: now,
		pools: pools, status: SmokeRunning}
}

func checkpointCount(c SmokeConfig) int {
	return int((c.Duration + c.Checkpoint - 1) / c.Checkpoint)
}

// offset is the scheduled time of checkpoint i after the baseline.
func (r *smokeRun) offset(i int) time.Duration {
	return min(time.Duration(i)*r.cfg.Checkpoint, r.cfg.Duration)
}

func (r *smokeRun) dueAt(i int) time.Time { return r.baselineAt.Add(r.offset(i)) }

func (r *smokeRun) elapsed(now time.Time) time.Duration {
	if r.baselineAt.IsZero() {
		return 0
	}
	return now.Sub(r.baselineAt)
}

func (r *smokeRun) stamp(t time.Time) string { return t.In(r.loc).Format(time.UnixDate) }

func (r *smokeRun) verdict() string {
	switch r.status {
	case SmokePassed:
		return "PASS"
	case SmokeFailed:
		return "FAIL"
	}
	return ""
}

func (r *smokeRun) expectedEnd() time.Time {
	if r.baselineAt.IsZero() {
		return r.started.Add(r.cfg.Warmup + r.cfg.Duration)
	}
	return r.baselineAt.Add(r.cfg.Duration)
}

// stalled: the next event is more than half a checkpoint overdue.
func (r *smokeRun) stalled(now time.Time) bool {
	if r.status != SmokeRunning {
		return false
	}
	due := r.started.Add(r.cfg.Warmup)
	if !r.baselineAt.IsZero() {
		due = r.dueAt(r.next + 1)
		if r.restarts > 0 && r.resumedAt.After(due) {
			due = r.resumedAt
		}
	}
	return now.Sub(due) > r.cfg.Checkpoint/2
}

// report copies the run into a SmokeReport.
func (r *smokeRun) report(now time.Time) SmokeReport {
	rep := SmokeReport{
		Status: r.status, Verdict: r.verdict(), Stalled: r.stalled(now),
		Duration: r.cfg.Duration, Checkpoint: r.cfg.Checkpoint, Warmup: r.cfg.Warmup,
		Started: r.started, BaselineAt: r.baselineAt, ExpectedEnd: r.expectedEnd(), Completed: r.completed,
		Checkpoints: cloneCheckpoints(r.cps),
		Restarts:    r.restarts,
		HTTPPools:   append([]string(nil), r.pools...),
		Growth:      append([]SmokeGrowth(nil), r.growth...),
		Alerts:      append([]Alert(nil), r.alerts...),
		Notes:       append([]string(nil), r.notes...),
		Lines:       append([]string(nil), r.lines...),
		ResultFiles: append([]string(nil), r.resultPaths...),
	}
	if !r.baselineAt.IsZero() {
		b := r.baseline
		b.HTTP = cloneHTTP(b.HTTP)
		rep.Baseline = &b
	}
	if r.status == SmokeRunning {
		rep.Criteria, _, _ = r.evaluate(false)
	} else {
		rep.Criteria = append([]SmokeCriterion(nil), r.criteria...)
		rep.Reasons = append([]string(nil), r.reasons...)
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

// line is the seed's checkpoint line: "[1/15] 2min: GOR=98 (+3, 1.50/min) FD=22 (+0, 0.00/min)".
func (c SmokeCheckpoint) line() string {
	fd := "FD=n/a"
	if c.FDsAvailable {
		fd = "FD=" + count(c.FDs, true) + " (" + signed(c.FDGrowth) + ", " + rate(c.FDRatePerMin) + "/min)"
	}
	return fmt.Sprintf("[%d/%d] %s: GOR=%s (%s, %s/min) %s", c.Index, c.Of, c.Label,
		count(c.Goroutines, true), signed(c.GoroutineGrowth), rate(c.GoroutineRatePerMin), fd)
}

func count(v float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func signed(v float64) string {
	if v >= 0 {
		return "+" + strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func rate(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if s == "-0.00" {
		return "0.00"
	}
	return s
}

// durLabel prints whole minutes as "30min" and anything else as a Go duration ("16s").
func durLabel(d time.Duration) string {
	if d > 0 && d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + "min"
	}
	return d.String()
}

// The seed's targets.
const (
	smokeGoroutineMust = 10.0 // per minute
	smokeFDMust        = 5.0
	smokeGoroutineNice = 5.0
	smokeFDNice        = 2.0
	smokeReuseNice     = 0.8
)

// last returns the last checkpoint taken (not missed), if any.
func (r *smokeRun) last() (SmokeCheckpoint, bool) {
	for i := len(r.cps) - 1; i >= 0; i-- {
		if !r.cps[i].Missed {
			return r.cps[i], true
		}
	}
	return SmokeCheckpoint{}, false
}

// evaluate checks the seed's criteria against the checkpoints so far. final: the run is over.
func (r *smokeRun) evaluate(final bool) (crit []SmokeCriterion, passed bool, reasons []string) {
	last, have := r.last()
	lastTaken := len(r.cps) == r.n && !r.cps[r.n-1].Missed && r.stoppedWhy == ""
	add := func(c SmokeCriterion) { crit = append(crit, c) }

	full := SmokeCriterion{Name: "Test completes full " + durLabel(r.cfg.Duration), Must: true, Passed: lastTaken}
	done := time.Duration(0)
	if have {
		done = r.offset(last.Index)
	}
	full.Value = fmt.Sprintf("%s of %s", durLabel(done), durLabel(r.cfg.Duration))
	if !final {
		full.Value += " so far"
	}
	add(full)

	rateCrit := func(name string, must bool, limit float64, get func(SmokeCheckpoint) (float64, bool)) SmokeCriterion {
		c := SmokeCriterion{Name: name, Must: must}
		if !have {
			c.Value = "no checkpoint yet"
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
	add(rateCrit("Goroutine leak rate <10/min", true, smokeGoroutineMust, gor))
	add(rateCrit("FD leak rate <5/min", true, smokeFDMust, fd))
	add(SmokeCriterion{Name: "Zero restarts", Must: true, Passed: r.restarts == 0, Value: fmt.Sprintf("%d restarts", r.restarts)})

	httpc := SmokeCriterion{Name: "HTTP metrics available throughout", Must: true}
	idle := SmokeCriterion{Name: "HTTP idle connections >0"}
	reuse := SmokeCriterion{Name: "Connection reuse rate >80%"}
	if len(r.pools) == 0 {
		for _, c := range []*SmokeCriterion{&httpc, &idle, &reuse} {
			c.NotApplicable, c.Value = true, "no HTTP pool configured"
		}
		httpc.Passed = true
	} else {
		avail, maxIdle, sumIdle, n := 0, 0.0, 0.0, 0
		for _, c := range r.cps {
			if c.HTTPAvailable {
				avail++
				maxIdle = max(maxIdle, c.HTTP.Idle)
				sumIdle += c.HTTP.Idle
				n++
			}
		}
		httpc.Passed = len(r.cps) > 0 && avail == len(r.cps)
		httpc.Value = fmt.Sprintf("%d of %d checkpoints", avail, len(r.cps))
		if n == 0 {
			idle.Value, reuse.Value = "no HTTP figures yet", "no HTTP figures yet"
		} else {
			idle.Passed = maxIdle > 0
			idle.Value = fmt.Sprintf("avg %s, max %s", strconv.FormatFloat(sumIdle/float64(n), 'f', 2, 64), count(maxIdle, true))
			if last.HTTP != nil {
				reuse.Passed = last.HTTP.ReuseRatio > smokeReuseNice
				reuse.Value = strconv.FormatFloat(100*last.HTTP.ReuseRatio, 'f', 1, 64) + "%"
			} else {
				reuse.Value = "not available at the last checkpoint"
			}
		}
	}
	add(httpc)
	add(idle)
	add(reuse)
	add(rateCrit("Goroutine growth <5/min", false, smokeGoroutineNice, gor))
	add(rateCrit("FD growth <2/min", false, smokeFDNice, fd))

	passed = true
	for _, c := range crit {
		if c.Must && !c.Passed {
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
		if last.GoroutineRatePerMin >= smokeGoroutineMust {
			reasons = append(reasons, fmt.Sprintf("goroutines grew %s/min (%s over %s, %s to %s), at or over the 10/min must-have",
				rate(last.GoroutineRatePerMin), signed(last.GoroutineGrowth), durLabel(last.Elapsed.Round(time.Second)),
				count(r.baseline.Goroutines, true), count(last.Goroutines, true)))
		}
		if last.FDsAvailable && last.FDRatePerMin >= smokeFDMust {
			reasons = append(reasons, fmt.Sprintf("file descriptors grew %s/min (%s over %s, %s to %s), at or over the 5/min must-have",
				rate(last.FDRatePerMin), signed(last.FDGrowth), durLabel(last.Elapsed.Round(time.Second)),
				count(r.baseline.FDs, true), count(last.FDs, true)))
		}
	} else {
		reasons = append(reasons, "no checkpoint was taken")
	}
	if r.restarts > 0 {
		reasons = append(reasons, fmt.Sprintf("the process restarted %d times during the run", r.restarts))
	}
	if !httpc.Passed {
		reasons = append(reasons, "HTTP metrics were not available at every checkpoint ("+httpc.Value+")")
	}
	if passed {
		reasons = append(reasons, "every must-have holds: ran "+full.Value+", goroutines "+crit[1].Value+" (<10/min), FDs "+crit[2].Value+" (<5/min), no restart")
	}
	for _, c := range crit {
		if !c.Must && !c.Passed && !c.NotApplicable && have {
			reasons = append(reasons, "nice-to-have not met: "+c.Name+" ("+c.Value+")")
		}
	}
	return crit, passed, reasons
}

// growthEvidence lists the series that grew from the run's baseline to final, the most alarming first.
func growthEvidence(r *smokeRun, final map[string]float64, snap Snapshot) []SmokeGrowth {
	if r.baselineAt.IsZero() {
		return nil
	}
	m := r.completed.Sub(r.baselineAt).Minutes()
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
	// The detector's level first, then growth relative to the baseline: bytes and counts do
	// not compare by their raw rates.
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

// alertEvidence returns the alert's evidence in words, or "" when it has none.
func alertEvidence(a Alert) string {
	if a.Evidence == nil {
		return ""
	}
	return fmt.Sprintf("%v", a.Evidence)
}
