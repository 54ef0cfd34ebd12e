package watchdog

import "time"

// SmokeConfig describes a smoke run: the seed's 30-minute test done in-process. A baseline is
// taken after Warmup, then a checkpoint every Checkpoint until Duration has passed.
//
// Zero value: every zero field means its default, as [DefaultSmokeConfig] gives it, so
// SmokeConfig{Enabled: true} is the seed's run. Negative durations are errors.
type SmokeConfig struct {
	// Enabled starts a smoke run when the watchdog starts. Off by default; runs can also be
	// started with [Watchdog.StartSmoke] or, when allowed, by POST /smoke.
	Enabled bool
	// Duration of the run. Default 30m. Must be at least one Checkpoint and at most 366 days,
	// with at most 4096 checkpoints in it.
	Duration time.Duration
	// Checkpoint is the time between two checkpoint lines. Default 2m, or Duration when that
	// is shorter (one checkpoint, at the end). Must be at least the sampling Interval.
	Checkpoint time.Duration
	// Warmup before the baseline is taken. Default 0: the baseline is the first sample, as in
	// the seed's script. Must be >= 0 and at most 366 days.
	Warmup time.Duration
	// ResultsDir, when set, receives the finished run's output log
	// (smoke_test_YYYYMMDD_HHMMSS.log, the run's start time), the final metrics snapshot
	// (metrics_final_<same>.json, the [Snapshot] as JSON) and the report as Markdown and JSON
	// (smoke_report_<same>.md and .json), files mode 0600. Created with mode 0700 if missing;
	// Start and StartSmoke fail when it cannot be created, later write errors are logged.
	ResultsDir string
	// StateFile, when set, lets a run survive a process restart: the state is written
	// atomically (mode 0600) at the baseline, at each checkpoint and at the end, and [Start]
	// resumes a run in progress found there (even with Enabled false) against the original
	// baseline, counting the restart; checkpoints that fell due while the process was down are
	// marked missed. A finished run found there stays readable with [Watchdog.SmokeReport]
	// until a new run starts. A corrupt, truncated or foreign file is reported (log and report
	// note), renamed to StateFile.corrupt-<time> and never trusted; it never makes Start fail.
	StateFile string
}

// DefaultSmokeConfig returns the seed's run: 30 minutes, a checkpoint every 2 minutes, not
// enabled.
func DefaultSmokeConfig() SmokeConfig {
	return SmokeConfig{Duration: 30 * time.Minute, Checkpoint: 2 * time.Minute}
}

// withDefaults returns s with every zero duration set to its default.
func (s SmokeConfig) withDefaults() SmokeConfig {
	d := DefaultSmokeConfig()
	if s.Duration == 0 {
		s.Duration = d.Duration
	}
	if s.Checkpoint == 0 {
		s.Checkpoint = d.Checkpoint
		if s.Duration > 0 && s.Duration < s.Checkpoint {
			s.Checkpoint = s.Duration
		}
	}
	return s
}

// Bounds of a smoke run, checked by Validate and StartSmoke: Duration and Warmup at most
// smokeMaxDuration each (so that Warmup+Duration and every checkpoint's offset fit a
// time.Duration), and at most smokeMaxCheckpoints checkpoints (so that the report and the
// state file stay small).
const (
	smokeMaxDuration    = 366 * 24 * time.Hour
	smokeMaxCheckpoints = 4096
)

func (s SmokeConfig) validate(p *problems, interval time.Duration) {
	if s.Duration <= 0 {
		p.addf("Smoke.Duration must be > 0 (got %v)", s.Duration)
	} else if s.Duration > smokeMaxDuration {
		p.addf("Smoke.Duration must be at most %v (got %v)", smokeMaxDuration, s.Duration)
	}
	if s.Checkpoint <= 0 {
		p.addf("Smoke.Checkpoint must be > 0 (got %v)", s.Checkpoint)
	} else if s.Duration > 0 && s.Checkpoint > s.Duration {
		p.addf("Smoke.Checkpoint (%v) must not exceed Smoke.Duration (%v)", s.Checkpoint, s.Duration)
	} else if s.Duration > 0 && checkpointCount(s) > smokeMaxCheckpoints {
		p.addf("Smoke.Checkpoint (%v) makes %d checkpoints in Smoke.Duration (%v); at most %d are allowed",
			s.Checkpoint, checkpointCount(s), s.Duration, smokeMaxCheckpoints)
	}
	if interval > 0 && s.Checkpoint > 0 && s.Checkpoint < interval {
		p.addf("Smoke.Checkpoint (%v) must be at least the Interval (%v)", s.Checkpoint, interval)
	}
	if s.Warmup < 0 {
		p.addf("Smoke.Warmup must be >= 0 (got %v)", s.Warmup)
	} else if s.Warmup > smokeMaxDuration {
		p.addf("Smoke.Warmup must be at most %v (got %v)", smokeMaxDuration, s.Warmup)
	}
}
