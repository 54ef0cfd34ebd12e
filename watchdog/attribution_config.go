package watchdog

import "time"

// AttributionConfig says what the watchdog collects when a series reaches warning or critical:
// goroutines grouped by stack and file descriptors by kind, diffed against a baseline taken
// after warm-up. See package [github.com/leakwatch/leakwatch/watchdog/attribution].
type AttributionConfig struct {
	// Disabled turns attribution off. It is on by default.
	Disabled bool
	// Cooldown is the least time between two snapshots. Default 10m.
	Cooldown time.Duration
	// MaxGoroutines is the ceiling above which goroutine stacks are not collected (the profile
	// costs O(goroutines)); the report says so. Default 100000.
	MaxGoroutines int
	// DumpDir, when set, receives a pprof goroutine profile and the FD table per snapshot, mode
	// 0600, bounded by DumpMaxFiles and DumpMaxBytes, oldest removed first.
	DumpDir string
	// DumpMaxFiles bounds the files kept in DumpDir. Default 20.
	DumpMaxFiles int
	// DumpMaxBytes bounds the bytes kept in DumpDir. Default 64 MiB.
	DumpMaxBytes int64
	// Overlap reads the descriptors while the goroutine profile is taken
	// (attribution.Options.Overlap): a snapshot takes about 0.65x the wall
	// time on two cores, but stop-the-world pauses over 1 ms become more
	// likely. Off by default: the pauses stop the host, the wall time of a
	// snapshot taken off the sampling goroutine does not.
	Overlap bool
}

// DefaultAttributionConfig returns attribution on, a 10-minute cooldown, a 100000-goroutine
// ceiling and no dumps.
func DefaultAttributionConfig() AttributionConfig {
	return AttributionConfig{Cooldown: 10 * time.Minute, MaxGoroutines: 100000, DumpMaxFiles: 20, DumpMaxBytes: 64 << 20}
}

func (a AttributionConfig) validate(p *problems) {
	if a.Cooldown < 0 {
		p.addf("Attribution.Cooldown must be >= 0 (got %v)", a.Cooldown)
	}
	if a.MaxGoroutines < 0 {
		p.addf("Attribution.MaxGoroutines must be >= 0 (got %d)", a.MaxGoroutines)
	}
	if a.DumpMaxFiles < 0 || a.DumpMaxBytes < 0 {
		p.addf("Attribution.DumpMaxFiles and DumpMaxBytes must be >= 0 (got %d, %d)", a.DumpMaxFiles, a.DumpMaxBytes)
	}
}
