package watchdog

import (
	"errors"
	"fmt"
	"math"
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
)

// Rule says how one series is judged. Its zero value judges nothing: every check is off until
// a threshold is set. Growth thresholds are in units of the series per minute, as the seed's
// smoke test states them; a threshold <= 0 disables that level.
type Rule struct {
	// NoticePerMin, WarningPerMin and CriticalPerMin grade the series' sustained growth per
	// minute, as estimated by the trend detector over [Config.Window]. When several are set they
	// must increase: notice < warning < critical.
	NoticePerMin, WarningPerMin, CriticalPerMin float64
	// ExhaustWarning and ExhaustCritical raise warning (critical) when the series' trend reaches
	// its limit within that horizon, whatever the rate. They apply only to series with a known
	// limit (fds, threads, heap_bytes, rss_bytes). Zero disables; ExhaustCritical must be shorter
	// than ExhaustWarning when both are set.
	ExhaustWarning, ExhaustCritical time.Duration
	// OnIncrease, when above LevelOK, is the level raised while the series (a counter, such as
	// HTTP errors) has increased within the last [Config.Window]. It resolves once a whole window
	// passes without an increase.
	OnIncrease Level
	// Below and BelowLevel raise BelowLevel while the value is under Below. With BelowWhile set
	// (a series name, typically a request counter), only while that series has increased within
	// the last Window: "no idle connection while requests flow". BelowLevel LevelOK disables.
	Below      float64
	BelowLevel Level
	BelowWhile string
}

func (r Rule) growth() bool {
	return r.NoticePerMin > 0 || r.WarningPerMin > 0 || r.CriticalPerMin > 0 ||
		r.ExhaustWarning > 0 || r.ExhaustCritical > 0
}

// RecordConfig makes the watchdog record every sample as CSV, in the trace format that
// [Replay] and bench/replay read (t,series...). Files rotate when they reach MaxBytes; at most
// MaxFiles are kept (the current one and MaxFiles-1 older, named Path.1, Path.2, ...).
// A row holds what was read on its tick: the series read every 5 s (goroutines_created,
// threads, heap_bytes, rss_bytes, fd_limit) are empty in the rows between their reads, and
// the engine, live or in replay, treats those cells as unread.
type RecordConfig struct {
	// Path of the CSV file; empty disables recording.
	Path string
	// MaxBytes per file before rotation. Zero means 16 MiB.
	MaxBytes int64
	// MaxFiles kept, the current one included. Zero means 4.
	MaxFiles int
}

// Config is the watchdog's plain-data configuration. Start from [DefaultConfig] and change
// fields; the zero Config is invalid (Interval 0). Durations are time.Duration, rates are per
// minute. Collaborators (logger, clock, handlers, gauges, HTTP pools) are passed as [Option]s.
type Config struct {
	// Interval between two samples. Default 1s. Must be > 0.
	Interval time.Duration
	// Jitter is the fraction of Interval by which each sample after the first is delayed at
	// random (uniform in [0, Jitter x Interval)); the average rate stays one per Interval.
	// Default 1: each sample falls at a random instant of its Interval. Sampling on a fixed
	// grid aliases with a host's own periodic work: a service polling every second, sampled
	// every second, is seen at the same phase of its poll every time, and an idle connection
	// or a burst of goroutines reads as always there or never there. 0 samples on the grid.
	// The delays come from a fixed-seed generator, so a run in a testing/synctest bubble is
	// reproducible. An injected [Clock] drives the samples itself and gets no jitter.
	// Must be in [0, 1].
	Jitter float64
	// Window is the span over which growth is estimated. Default 5m. Must be at least three
	// Intervals. Shorter windows detect sooner and alarm more readily; Confirm, Resolve and the
	// detector's other time constants scale with it, so a 6s window at a 200ms Interval works.
	Window time.Duration
	// Warmup is how long after Start the detector stays at ok while start-up pools fill (samples
	// in it are not used for the estimate), and when the attribution baseline is taken.
	// Default 5m; 0 means none. Must be >= 0.
	Warmup time.Duration
	// Confirm is how long a raised level must persist before it is reported; zero derives it
	// from Window (see the detector docs). Must be >= 0.
	Confirm time.Duration
	// Resolve is how long the evidence must stay below a level before it is lowered
	// (hysteresis); zero derives it from Window. Must be >= 0.
	Resolve time.Duration
	// Rules per series name. DefaultConfig holds the seed's thresholds for goroutines and fds and
	// exhaustion rules for threads, heap_bytes and rss_bytes; HTTP pools get [HTTPRules] for
	// their series unless a rule is set here. A rule for a series that does not exist is an error
	// at Start.
	Rules map[string]Rule
	// HistorySize is the number of samples kept per series for charts and [Watchdog.History].
	// Default 720. Memory is HistorySize x series x 16 bytes, whatever the uptime.
	HistorySize int
	// RecentAlerts is the number of alerts kept for [Watchdog.Snapshot]. Default 64.
	RecentAlerts int
	// AlertQueue is the capacity of the queue between the sampling goroutine and the OnAlert
	// handlers; when full, alerts are dropped for the handlers (and counted), never for the log
	// or the snapshot. Default 256.
	AlertQueue int
	// StallAfter: the watchdog reports itself stalled when no tick has completed for this long.
	// Default 5 x Interval (at least 3s).
	StallAfter time.Duration
	// Record samples as CSV for replay. Off by default.
	Record RecordConfig
	// Smoke runs the seed's smoke test in-process from Start. Off by default.
	Smoke SmokeConfig
	// Attribution says what to collect when an alert reaches warning or critical.
	Attribution AttributionConfig
}

// DefaultConfig returns the configuration that holds the seed's thresholds: goroutines notice
// at 10/min, warning at 20/min, critical at 50/min; fds at 5, 15 and 30/min and exhaustion of
// RLIMIT_NOFILE within 6 h (warning) or 1 h (critical); the same exhaustion horizons for threads
// and memory.
func DefaultConfig() Config {
	exhaust := Rule{ExhaustWarning: 6 * time.Hour, ExhaustCritical: time.Hour}
	tp := trend.DefaultParams()
	return Config{
		Interval:     time.Second,
		Jitter:       1,
		Window:       tp.Window,
		Warmup:       tp.Warmup,
		HistorySize:  720,
		RecentAlerts: 64,
		AlertQueue:   256,
		Rules: map[string]Rule{
			SeriesGoroutines: {NoticePerMin: 10, WarningPerMin: 20, CriticalPerMin: 50},
			SeriesFDs: {NoticePerMin: 5, WarningPerMin: 15, CriticalPerMin: 30,
				ExhaustWarning: 6 * time.Hour, ExhaustCritical: time.Hour},
			SeriesThreads:   exhaust,
			SeriesHeapBytes: exhaust,
			SeriesRSSBytes:  exhaust,
		},
		Smoke:       DefaultSmokeConfig(),
		Attribution: DefaultAttributionConfig(),
	}
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
	if c.Interval <= 0 {
		p.addf("Interval must be > 0 (got %v)", c.Interval)
	}
	if !(c.Jitter >= 0 && c.Jitter <= 1) { // NaN fails too
		p.addf("Jitter must be in [0, 1] (got %v)", c.Jitter)
	}
	if c.Window <= 0 {
		p.addf("Window must be > 0 (got %v)", c.Window)
	} else if c.Interval > 0 && c.Window < 3*c.Interval {
		p.addf("Window must be at least three Intervals (got %v with Interval %v)", c.Window, c.Interval)
	}
	if c.Warmup < 0 {
		p.addf("Warmup must be >= 0 (got %v)", c.Warmup)
	}
	if c.Confirm < 0 {
		p.addf("Confirm must be >= 0 (got %v)", c.Confirm)
	}
	if c.Resolve < 0 {
		p.addf("Resolve must be >= 0 (got %v)", c.Resolve)
	}
	if c.HistorySize < 2 {
		p.addf("HistorySize must be >= 2 (got %d)", c.HistorySize)
	}
	if c.RecentAlerts < 1 {
		p.addf("RecentAlerts must be >= 1 (got %d)", c.RecentAlerts)
	}
	if c.AlertQueue < 1 {
		p.addf("AlertQueue must be >= 1 (got %d)", c.AlertQueue)
	}
	if c.StallAfter < 0 {
		p.addf("StallAfter must be >= 0 (got %v)", c.StallAfter)
	}
	if c.Record.MaxBytes < 0 {
		p.addf("Record.MaxBytes must be >= 0 (got %d)", c.Record.MaxBytes)
	}
	if c.Record.MaxFiles < 0 {
		p.addf("Record.MaxFiles must be >= 0 (got %d)", c.Record.MaxFiles)
	}
	names := make([]string, 0, len(c.Rules))
	for n := range c.Rules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c.Rules[n].validate(p, fmt.Sprintf("Rules[%q]", n))
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

func (r Rule) validate(p *problems, at string) {
	for _, f := range []struct {
		name string
		v    float64
	}{{"NoticePerMin", r.NoticePerMin}, {"WarningPerMin", r.WarningPerMin}, {"CriticalPerMin", r.CriticalPerMin}, {"Below", r.Below}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			p.addf("%s.%s must be a finite number (got %v)", at, f.name, f.v)
		}
	}
	set := []struct {
		name string
		v    float64
	}{}
	for _, f := range []struct {
		name string
		v    float64
	}{{"NoticePerMin", r.NoticePerMin}, {"WarningPerMin", r.WarningPerMin}, {"CriticalPerMin", r.CriticalPerMin}} {
		if f.v > 0 {
			set = append(set, f)
		}
	}
	for i := 1; i < len(set); i++ {
		if set[i-1].v >= set[i].v {
			p.addf("%s: %s (%g) must be below %s (%g)", at, set[i-1].name, set[i-1].v, set[i].name, set[i].v)
		}
	}
	if r.ExhaustWarning < 0 || r.ExhaustCritical < 0 {
		p.addf("%s: exhaustion horizons must be >= 0 (got warning %v, critical %v)", at, r.ExhaustWarning, r.ExhaustCritical)
	}
	if r.ExhaustWarning > 0 && r.ExhaustCritical >= r.ExhaustWarning {
		p.addf("%s: ExhaustCritical (%v) must be shorter than ExhaustWarning (%v)", at, r.ExhaustCritical, r.ExhaustWarning)
	}
	if r.OnIncrease > LevelCritical {
		p.addf("%s: OnIncrease is not a level (%d)", at, r.OnIncrease)
	}
	if r.BelowLevel > LevelCritical {
		p.addf("%s: BelowLevel is not a level (%d)", at, r.BelowLevel)
	}
	if r.BelowWhile != "" && r.BelowLevel == LevelOK {
		p.addf("%s: BelowWhile %q is set but BelowLevel is ok", at, r.BelowWhile)
	}
}
