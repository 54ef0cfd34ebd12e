package watchdog

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// SmokeStatus is the state of a smoke run, as /smoke and [Watchdog.SmokeReport] show it.
type SmokeStatus string

// The states of a smoke run.
const (
	// SmokeNone: no run was started since the watchdog started (and none was found in the
	// state file).
	SmokeNone SmokeStatus = "none"
	// SmokeRunning: a run is warming up or taking checkpoints.
	SmokeRunning SmokeStatus = "running"
	// SmokePassed: the run finished and every must-have criterion holds.
	SmokePassed SmokeStatus = "passed"
	// SmokeFailed: the run finished (or was stopped early) and a must-have criterion does not
	// hold; [SmokeReport.Reasons] says which.
	SmokeFailed SmokeStatus = "failed"
)

// Errors of [Watchdog.StartSmoke].
var (
	// ErrSmokeRunning is returned by StartSmoke (and answered 409 by POST /smoke) while a run
	// is going: one run at a time.
	ErrSmokeRunning = errors.New("watchdog: a smoke run is already running")
	// ErrStopped is returned by StartSmoke once the watchdog has stopped.
	ErrStopped = errors.New("watchdog: stopped")
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
	// Duration, Checkpoint and Warmup of the run (JSON: duration_s, checkpoint_s, warmup_s, in
	// seconds).
	Duration   time.Duration `json:"-"`
	Checkpoint time.Duration `json:"-"`
	Warmup     time.Duration `json:"-"`
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
	// Targets are the thresholds the criteria judge against, from the configured rules.
	Targets SmokeTargets `json:"targets"`
	// HTTPPools are the names of the HTTP pools whose figures the checkpoints carry (summed).
	HTTPPools []string `json:"http_pools,omitempty"`
	// Growth is the evidence of a finished run: every series that grew from the baseline, the
	// fastest first.
	Growth []SmokeGrowth `json:"growth,omitempty"`
	// Alerts raised during the run so far, oldest first (at most 256, the newest), with the
	// evidence attribution attached to them.
	Alerts []Alert `json:"alerts,omitempty"`
	// Notes: restarts, state files set aside, probes not available.
	Notes []string `json:"notes,omitempty"`
	// Lines are the output lines so far, as written to the [WithSmokeOutput] writer.
	Lines []string `json:"lines"`
	// ResultFiles written to ResultsDir (names with the directory), once the writer has
	// written them: names are reserved without overwriting any file, a run that finds its
	// names taken (another run started the same second) adds _2, _3, ... to its timestamp.
	ResultFiles []string `json:"result_files,omitempty"`
}

type smokeReportFields SmokeReport // SmokeReport without its methods

// smokeReportJSON is SmokeReport on the wire: its durations in seconds.
type smokeReportJSON struct {
	smokeReportFields
	Duration   float64 `json:"duration_s"`
	Checkpoint float64 `json:"checkpoint_s"`
	Warmup     float64 `json:"warmup_s"`
}

func (r SmokeReport) wire() smokeReportJSON {
	return smokeReportJSON{smokeReportFields(r), r.Duration.Seconds(), r.Checkpoint.Seconds(), r.Warmup.Seconds()}
}

func (x smokeReportJSON) report() SmokeReport {
	r := SmokeReport(x.smokeReportFields)
	r.Duration, r.Checkpoint, r.Warmup = fromSeconds(x.Duration), fromSeconds(x.Checkpoint), fromSeconds(x.Warmup)
	return r
}

// MarshalJSON encodes the report with its durations in seconds (duration_s, checkpoint_s,
// warmup_s).
func (r SmokeReport) MarshalJSON() ([]byte, error) { return json.Marshal(r.wire()) }

// UnmarshalJSON decodes what MarshalJSON writes.
func (r *SmokeReport) UnmarshalJSON(b []byte) error {
	var x smokeReportJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*r = x.report()
	return nil
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
	// Passed says whether it holds. While the run is going it is the figure so far; a criterion
	// that cannot be judged before the end (the full duration, restarts) or that has no figure
	// yet is Pending instead, and Passed is false.
	Passed bool `json:"passed"`
	// Pending is true while the run is going for a criterion not judged yet: it is neither
	// passed nor failed.
	Pending bool `json:"pending,omitempty"`
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

// SmokeTargets are the thresholds a smoke run's criteria judge against, read from the
// configured rules when the run starts (or resumes): the must-have growth limits are the lowest
// growth threshold set in Config.Rules["goroutines"] and Rules["fds"] (NoticePerMin, the level
// "over the smoke target": 10 and 5/min by default, the seed's figures), so tightening a rule
// tightens the verdict. The nice-to-have limits are the must-haves scaled by the seed's own
// ratios (5 of 10 for goroutines, 2 of 5 for FDs). A limit of 0 means the series has no growth
// rule; its criteria are then not applicable.
type SmokeTargets struct {
	GoroutinesPerMin     float64 `json:"goroutines_per_min"`
	FDsPerMin            float64 `json:"fds_per_min"`
	GoroutinesNicePerMin float64 `json:"goroutines_nice_per_min"`
	FDsNicePerMin        float64 `json:"fds_nice_per_min"`
	// ReuseRatio is the nice-to-have connection reuse, 0..1: the highest reuse floor (Below)
	// the pools' reuse_ratio rules set, the seed's 80% with [HTTPRules]; 0 when the pools have
	// no such rule, and the criterion is then not applicable.
	ReuseRatio float64 `json:"reuse_ratio"`
}
