package watchdog

import "time"

// AttributionConfig says what the watchdog collects when a series reaches warning or critical:
// goroutines grouped by stack and file descriptors by kind, diffed against a baseline taken at
// Start. See package [github.com/leakwatch/leakwatch/watchdog/attribution].
//
// Zero values: every zero field means its default, as [DefaultAttributionConfig] gives it, so
// AttributionConfig{} and AttributionConfig{DumpDir: d} are complete configurations. Negative
// values are errors.
type AttributionConfig struct {
	// Disabled turns attribution off. It is on by default.
	Disabled bool
	// Cooldown is the least time between two snapshots for one series (each series has its
	// own: an fds alert seconds after a goroutine alert gets its own evidence). An alert
	// within its series' cooldown gets evidence that says so and names the alert that has the
	// last snapshot. An escalation is not held back: an alert of a higher level than the one
	// that got the series' last snapshot (critical seconds after warning) gets a snapshot of
	// its own and starts the series' cooldown again; an alert of the same or a lower level
	// within the cooldown does not. Zero means the default, 10m.
	Cooldown time.Duration
	// MaxGoroutines is the ceiling above which goroutine stacks are not collected (the profile
	// costs O(goroutines)); the report says so. Zero means the default, 100000.
	MaxGoroutines int
	// DumpDir, when set, receives a pprof goroutine profile, the FD table and the report per
	// snapshot, mode 0600, bounded by DumpMaxFiles and DumpMaxBytes, oldest removed first.
	// Only files this watchdog wrote are ever removed. A spare descriptor is held from Start
	// so that the dump is still written when the process has run out of descriptors.
	DumpDir string
	// DumpMaxFiles bounds the files this watchdog keeps in DumpDir. Zero means the default, 20.
	DumpMaxFiles int
	// DumpMaxBytes bounds the bytes this watchdog keeps in DumpDir. Zero means the default,
	// 64 MiB.
	DumpMaxBytes int64
	// Overlap reads the descriptors while the goroutine profile is taken
	// (attribution.Options.Overlap): a snapshot takes less wall time, but stop-the-world
	// pauses over 1 ms become more frequent. Off by default: the pauses stop the host, the
	// wall time of a snapshot taken off the sampling goroutine does not.
	Overlap bool
}

// DefaultAttributionConfig returns attribution on, a 10-minute cooldown per series, a
// 100000-goroutine ceiling and no dumps (20 files and 64 MiB once DumpDir is set).
func DefaultAttributionConfig() AttributionConfig {
	return AttributionConfig{Cooldown: 10 * time.Minute, MaxGoroutines: 100000, DumpMaxFiles: 20, DumpMaxBytes: 64 << 20}
}

// withDefaults returns a with every zero field set to its default.
func (a AttributionConfig) withDefaults() AttributionConfig {
	d := DefaultAttributionConfig()
	if a.Cooldown == 0 {
		a.Cooldown = d.Cooldown
	}
	if a.MaxGoroutines == 0 {
		a.MaxGoroutines = d.MaxGoroutines
	}
	if a.DumpMaxFiles == 0 {
		a.DumpMaxFiles = d.DumpMaxFiles
	}
	if a.DumpMaxBytes == 0 {
		a.DumpMaxBytes = d.DumpMaxBytes
	}
	return a
}

func (a AttributionConfig) validate(p *problems) {
	if a.Cooldown < 0 {
		p.addf("Attribution.Cooldown must be >= 0 (got %v)", a.Cooldown)
	}
	if a.MaxGoroutines < 0 {
		p.addf("Attribution.MaxGoroutines must be >= 0 (got %d)", a.MaxGoroutines)
	}
	if a.DumpMaxFiles < 0 {
		p.addf("Attribution.DumpMaxFiles must be >= 0 (got %d)", a.DumpMaxFiles)
	}
	if a.DumpMaxBytes < 0 {
		p.addf("Attribution.DumpMaxBytes must be >= 0 (got %d)", a.DumpMaxBytes)
	}
}
