package watchdog

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/trend"
)

// Names of the built-in series. HTTP pools add series named by [HTTPSeries]; user gauges
// ([WithGauge]) add one series under the name they were registered with.
const (
	// SeriesGoroutines is runtime.NumGoroutine: the goroutines of the program, without the
	// runtime's own system goroutines (which /sched/goroutines:goroutines counts, with an offset
	// that drifts).
	SeriesGoroutines = "goroutines"
	// SeriesGoroutinesCreated is the runtime/metrics counter /sched/goroutines-created:goroutines
	// (Go 1.26+): its rate is the churn beside the live count ("created 3000/min, retained 25/min").
	SeriesGoroutinesCreated = "goroutines_created"
	// SeriesThreads is the number of live OS threads (/sched/threads/total:threads); its limit is
	// the runtime's maximum number of threads (debug.SetMaxThreads, 10000 by default).
	SeriesThreads = "threads"
	// SeriesHeapBytes is the bytes of live and not yet swept heap objects
	// (/memory/classes/heap/objects:bytes); its limit is GOMEMLIMIT when one is set, else the
	// cgroup memory limit.
	SeriesHeapBytes = "heap_bytes"
	// SeriesRSSBytes is the resident set size of the process (Linux); its limit is the cgroup
	// memory limit when one is set.
	SeriesRSSBytes = "rss_bytes"
	// SeriesFDs is the number of open file descriptors (Linux); its limit is [SeriesFDLimit].
	SeriesFDs = "fds"
	// SeriesFDLimit is the soft RLIMIT_NOFILE (Linux).
	SeriesFDLimit = "fd_limit"
	// SeriesHeapLive is the live heap in bytes: what the last completed garbage collection
	// marked reachable (/gc/heap/live:bytes, Go 1.21+). Unlike heap_bytes it leaves out the
	// garbage not yet collected, so it moves with what the program keeps, not with how fast it
	// allocates; unlike rss_bytes it leaves out stacks, the runtime's own memory and pages not
	// yet returned to the OS. It is read with the slow series, and it is new only when a
	// collection has completed since the last read: in between the engine sees it as unread.
	// It is judged for growth by [HeapLiveRule], over a longer window (see [Config.Window]).
	SeriesHeapLive = "heap_live_bytes"
)

// Rule says how one series is judged. Its zero value judges nothing: every check is off until
// a threshold is set. Growth thresholds are in units of the series per minute, as the seed's
// smoke test states them; a threshold <= 0 disables that level. Every check (growth,
// exhaustion, limit, increase, floor) feeds one hysteresis: a level is raised once its
// condition has held for [Config.Confirm] and lowered once it has failed for [Config.Resolve].
// The fields:
//
//   - NoticePerMin, WarningPerMin, CriticalPerMin float64: grade the series' sustained growth
//     per minute over [Config.Window]. When several are set they must increase.
//   - ExhaustWarning, ExhaustCritical time.Duration: warning (critical) when the trend reaches
//     the series' limit within that horizon, whatever the rate. They apply only to series with a
//     known limit (fds, threads, heap_bytes, rss_bytes). Zero disables; ExhaustCritical must be
//     shorter than ExhaustWarning when both are set. A value at its limit is critical.
//   - OnIncrease Level: when above LevelOK, the level raised while the series (a counter, such
//     as HTTP errors) has increased within the last [Config.Window].
//   - Below float64, BelowLevel Level, BelowWhile string: BelowLevel while the value is under
//     Below, after the warm-up. With BelowWhile set (a series name, typically a request
//     counter), only while that series has increased within the last Window: "no idle
//     connection while requests flow". BelowLevel LevelOK disables.
//
// Rule is the detector core's own type, so that the rules have one definition and one
// validation.
type Rule = trend.Rule

// RecordConfig makes the watchdog record every sample as CSV, in the trace format that
// [Replay] and bench/replay read (t,series...). Files rotate when they reach MaxBytes; at most
// MaxFiles are kept (the current one and MaxFiles-1 older, named Path.1, Path.2, ...). A
// recording already at Path when the watchdog starts (an earlier run of the process) is kept
// as Path.1, as a rotation does, not truncated (with MaxFiles 1 it is replaced).
// A row holds what was read on its tick: the series read every 5 s (goroutines_created,
// threads, heap_bytes, rss_bytes, fd_limit) are empty in the rows between their reads, and
// so is heap_live_bytes in every row whose read saw no collection since the last one; the
// engine, live or in replay, treats those cells as unread.
//
// Zero value: no recording (Path empty); with a Path, a zero MaxBytes or MaxFiles means its
// default. Negative values are errors.
type RecordConfig struct {
	// Path of the CSV file; empty disables recording.
	Path string
	// MaxBytes per file before rotation. Zero means 16 MiB.
	MaxBytes int64
	// MaxFiles kept, the current one included. Zero means 4; at most 1000.
	MaxFiles int
}

// Config is the watchdog's plain-data configuration. Durations are time.Duration, rates are
// per minute. Collaborators (logger, clock, handlers, gauges, HTTP pools) are passed as
// [Option]s.
//
// Zero value: a zero field means its default, for every field that has one, here and in the
// Record, Smoke and Attribution sections, so Config{} is [DefaultConfig]. Where "none" is a
// setting of its own it has a named value instead of zero ([NoJitter]). Negative values are
// errors. Every size and duration has an upper bound, named in the error, so that no setting
// can overflow a derived duration or allocate without limit.
type Config struct {
	// Interval between two samples. Default 1s; at most 1h.
	Interval time.Duration
	// Jitter is the fraction of Interval by which each sample after the first is delayed at
	// random (uniform in [0, Jitter x Interval)); the average rate stays one per Interval.
	// Default (0) 1: each sample falls at a random instant of its Interval. Sampling on a
	// fixed grid aliases with a host's own periodic work: a service polling every second,
	// sampled every second, is seen at the same phase of its poll every time, and an idle
	// connection or a burst of goroutines reads as always there or never there. [NoJitter]
	// samples on the grid. The delays come from a fixed-seed generator, so a run in a
	// testing/synctest bubble is reproducible. An injected [Clock] drives the samples itself
	// and gets no jitter. Must be NoJitter or in (0, 1].
	Jitter float64
	// Window is the span over which growth is estimated. Default 5m; at least three Intervals
	// and at most 24h. Shorter windows detect sooner and alarm more readily; Confirm, Resolve and the
	// detector's other time constants scale with it, so a 6s window at a 200ms Interval works.
	Window time.Duration
	// Warmup is the start-up span in which pools filling are not called leaks (see the package
	// docs, Detection: growth that decelerates and ends is a fill; growth that does not is still
	// graded, and a limit reached is critical at once). Default 5m; at most 24h. [NoWarmup]
	// judges every sample as after the warm-up.
	Warmup time.Duration
	// Confirm is how long a rule must support a higher level without a break before it is
	// raised, for every rule alike (growth, exhaustion, floor). A value at its limit and a
	// counter's increase are raised on the sample that shows them. Default Window/4 (75 s at
	// the default Window). At most 24h.
	Confirm time.Duration
	// Resolve is how long the rules must support only a lower level without a break before the
	// level is lowered (hysteresis: one good sample does not resolve a warning). Default
	// Window/2 (150 s at the default Window). At most 24h.
	Resolve time.Duration
	// Rules per series name. Default (nil) [DefaultRules]: the seed's thresholds for goroutines
	// and fds and exhaustion rules for threads, heap_bytes and rss_bytes; an empty non-nil map
	// sets none. HTTP pools get [HTTPRules] for their series unless a rule is set here. A rule
	// for a series that does not exist is an error at Start.
	Rules map[string]Rule
	// HistorySize is the number of samples kept per series for charts and [Watchdog.History].
	// Default 720; 2 to 1<<20. Memory is HistorySize x series x 16 bytes, whatever the uptime.
	HistorySize int
	// RecentAlerts is the number of alerts kept for [Watchdog.Snapshot]. Default 64; at most
	// 1<<16.
	RecentAlerts int
	// AlertQueue is the capacity of the queue between the sampling goroutine and the OnAlert
	// handlers; when full, alerts are dropped for the handlers (and counted), never for the log
	// or the snapshot. Default 256; at most 1<<16.
	AlertQueue int
	// StallAfter: the watchdog reports itself stalled when no tick has completed for this long.
	// Default 5 x Interval (at least 3s); at most 24h.
	StallAfter time.Duration
	// Record samples as CSV for replay. Off by default.
	Record RecordConfig
	// Smoke runs the seed's smoke test in-process from Start. Off by default.
	Smoke SmokeConfig
	// Attribution says what to collect when an alert reaches warning or critical.
	Attribution AttributionConfig
}

// DefaultRules returns the seed's thresholds, the one place they are declared: goroutines
// notice at 10/min, warning at 20/min, critical at 50/min; fds at 5, 15 and 30/min and
// exhaustion of RLIMIT_NOFILE within 6 h (warning) or 1 h (critical); the same exhaustion
// horizons for threads and memory. [DefaultConfig], [HTTPRules] (open connections are judged
// like FDs) and the smoke run's criteria refer to it. Each call returns a new map.
func DefaultRules() map[string]Rule {
	exhaust := Rule{ExhaustWarning: 6 * time.Hour, ExhaustCritical: time.Hour}
	return map[string]Rule{
		SeriesGoroutines: {NoticePerMin: 10, WarningPerMin: 20, CriticalPerMin: 50},
		SeriesFDs: {NoticePerMin: 5, WarningPerMin: 15, CriticalPerMin: 30,
			ExhaustWarning: exhaust.ExhaustWarning, ExhaustCritical: exhaust.ExhaustCritical},
		SeriesThreads:   exhaust,
		SeriesHeapBytes: exhaust,
		SeriesRSSBytes:  exhaust,
		SeriesHeapLive:  HeapLiveRule(),
	}
}

// NoJitter, as [Config.Jitter], samples on the Interval grid, without random delays.
const NoJitter = -1

// NoWarmup, as [Config.Warmup], judges every sample as after the warm-up: no start-up span.
const NoWarmup time.Duration = -1

// Defaults of the Config fields whose zero value means "default".
const (
	defaultJitter       = 1
	defaultInterval     = time.Second
	defaultHistorySize  = 720
	defaultRecentAlerts = 64
	defaultAlertQueue   = 256
)

// Upper bounds of Config's sizes and durations.
const (
	maxInterval     = time.Hour
	maxSpan         = 24 * time.Hour // Window, Warmup, Confirm, Resolve, StallAfter
	maxHistorySize  = 1 << 20
	maxRecentAlerts = 1 << 16
	maxAlertQueue   = 1 << 16
	maxRecordFiles  = 1000 // a rotation renames each kept file: bounded work on the tick
)

// DefaultConfig returns the configuration with every default filled in, the same as the zero
// Config: the seed's thresholds ([DefaultRules]), a sample every second with Jitter 1, a
// 5-minute Window and Warmup, the smoke run's ([DefaultSmokeConfig]) and the attribution's
// ([DefaultAttributionConfig]) defaults.
func DefaultConfig() Config {
	return Config{}.withDefaults()
}

// withDefaults returns c with every zero field that has a default set to it. Confirm, Resolve
// and StallAfter stay zero when unset here only if Interval or Window is out of range, which
// validate reports.
func (c Config) withDefaults() Config {
	tp := trend.DefaultParams()
	if c.Interval == 0 {
		c.Interval = defaultInterval
	}
	if c.Jitter == 0 {
		c.Jitter = defaultJitter
	}
	if c.Window == 0 {
		c.Window = tp.Window
	}
	if c.Warmup == 0 {
		c.Warmup = tp.Warmup
	}
	if c.Rules == nil {
		c.Rules = DefaultRules()
	}
	if c.HistorySize == 0 {
		c.HistorySize = defaultHistorySize
	}
	if c.RecentAlerts == 0 {
		c.RecentAlerts = defaultRecentAlerts
	}
	if c.AlertQueue == 0 {
		c.AlertQueue = defaultAlertQueue
	}
	if c.StallAfter == 0 && c.Interval > 0 && c.Interval <= maxInterval {
		c.StallAfter = max(5*c.Interval, 3*time.Second)
	}
	c.Smoke = c.Smoke.withDefaults()
	c.Attribution = c.Attribution.withDefaults()
	return c
}

// ErrInvalidConfig is wrapped by every error that [Start] and [Config.Validate] return for a
// bad configuration; the message names every bad field.
var ErrInvalidConfig = errors.New("watchdog: invalid config")

type problems []string

func (p *problems) addf(format string, a ...any) { *p = append(*p, fmt.Sprintf(format, a...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(p, "; "))
}

// Validate reports every bad field in one error wrapping [ErrInvalidConfig]. It does not know
// which series exist (that depends on the options given to Start), so unknown series in Rules
// are reported by Start.
func (c Config) Validate() error {
	var p problems
	c.validate(&p)
	return p.err()
}

func (c Config) validate(p *problems) {
	c = c.withDefaults()
	if c.Interval < 0 || c.Interval > maxInterval {
		p.addf("Interval must be in (0, %v] (got %v)", maxInterval, c.Interval)
	}
	if c.Jitter != NoJitter && !(c.Jitter > 0 && c.Jitter <= 1) { // NaN fails too
		p.addf("Jitter must be NoJitter (-1) or in (0, 1] (got %v)", c.Jitter)
	}
	if c.Window < 0 || c.Window > maxSpan {
		p.addf("Window must be in (0, %v] (got %v)", maxSpan, c.Window)
	} else if c.Interval > 0 && c.Interval <= maxInterval && c.Window/3 < c.Interval {
		p.addf("Window must be at least three Intervals (got %v with Interval %v)", c.Window, c.Interval)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Confirm", c.Confirm}, {"Resolve", c.Resolve}, {"StallAfter", c.StallAfter}} {
		if d.v < 0 || d.v > maxSpan {
			p.addf("%s must be in [0, %v] (got %v)", d.name, maxSpan, d.v)
		}
	}
	if c.Warmup != NoWarmup && (c.Warmup < 0 || c.Warmup > maxSpan) {
		p.addf("Warmup must be NoWarmup (-1ns) or in [0, %v] (got %v)", maxSpan, c.Warmup)
	}
	for _, n := range []struct {
		name   string
		v, min int
		max    int
	}{{"HistorySize", c.HistorySize, 2, maxHistorySize}, {"RecentAlerts", c.RecentAlerts, 1, maxRecentAlerts}, {"AlertQueue", c.AlertQueue, 1, maxAlertQueue}} {
		if n.v < n.min || n.v > n.max {
			p.addf("%s must be in [%d, %d] (got %d)", n.name, n.min, n.max, n.v)
		}
	}
	if c.Record.MaxBytes < 0 {
		p.addf("Record.MaxBytes must be >= 0 (got %d)", c.Record.MaxBytes)
	}
	if c.Record.MaxFiles < 0 || c.Record.MaxFiles > maxRecordFiles {
		p.addf("Record.MaxFiles must be in [0, %d] (got %d)", maxRecordFiles, c.Record.MaxFiles)
	}
	names := make([]string, 0, len(c.Rules))
	for n := range c.Rules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		validateRule(c.Rules[n], p, fmt.Sprintf("Rules[%q]", n))
	}
	if c.Smoke.Enabled {
		c.Smoke.validate(p, c.Interval)
	}
	c.Attribution.validate(p)
	if len(*p) == 0 {
		// The detector's own derived constants (from Window) must hold too, so that whatever
		// Validate accepts, Start accepts.
		if err := trendParams(c).Validate(); err != nil {
			p.addf("%v", err)
		}
	}
}

func validateRule(r Rule, p *problems, at string) {
	for _, b := range r.Problems() {
		p.addf("%s: %s", at, b)
	}
}
