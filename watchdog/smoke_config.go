package watchdog

import "time"

// SmokeConfig describes a smoke run: the seed's 30-minute test done in-process. A baseline is
// taken after Warmup, then a checkpoint every Checkpoint until Duration has passed.
type SmokeConfig struct {
	// Enabled starts a smoke run when the watchdog starts. Off by default; runs can also be
	// started with [Watchdog.StartSmoke] or, when allowed, by POST /smoke.
	Enabled bool
	// Duration of the run. Default 30m. Must be at least one Checkpoint.
	Duration time.Duration
	// Checkpoint is the time between two checkpoint lines. Default 2m. Must be at least the
	// sampling Interval.
	Checkpoint time.Duration
	// Warmup before the baseline is taken. Default 0: the baseline is the first sample, as in
	// the seed's script. Must be >= 0.
	Warmup time.Duration
	// ResultsDir, when set, receives the finished run's output log
	// (smoke_test_YYYYMMDD_HHMMSS.log), the final metrics snapshot and the report as Markdown
	// and JSON. Created with mode 0700 if missing.
	ResultsDir string
	// StateFile, when set, lets a run survive a process restart: the new process resumes the run
	// against the original baseline and counts the restart. A corrupt or foreign file is
	// reported, renamed aside and never trusted.
	StateFile string
}

// DefaultSmokeConfig returns the seed's run: 30 minutes, a checkpoint every 2 minutes, not
// enabled.
func DefaultSmokeConfig() SmokeConfig {
	return SmokeConfig{Duration: 30 * time.Minute, Checkpoint: 2 * time.Minute}
}

func (s SmokeConfig) validate(p *problems, interval time.Duration) {
	if s.Duration <= 0 {
		p.addf("Smoke.Duration must be > 0 (got %v)", s.Duration)
	}
	if s.Checkpoint <= 0 {
		p.addf("Smoke.Checkpoint must be > 0 (got %v)", s.Checkpoint)
	} else if s.Duration > 0 && s.Checkpoint > s.Duration {
		p.addf("Smoke.Checkpoint (%v) must not exceed Smoke.Duration (%v)", s.Checkpoint, s.Duration)
	}
	if interval > 0 && s.Checkpoint > 0 && s.Checkpoint < interval {
		p.addf("Smoke.Checkpoint (%v) must be at least the Interval (%v)", s.Checkpoint, interval)
	}
	if s.Warmup < 0 {
		p.addf("Smoke.Warmup must be >= 0 (got %v)", s.Warmup)
	}
}
