package watchdog

import (
	"io"
	"log/slog"

	"go.uber.org/zap"

	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

// Option carries a collaborator to [Start]: a logger, a clock, alert handlers, gauges, HTTP
// pools. Plain settings live in [Config].
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type gauge struct {
	name string
	fn   func() float64
}

type options struct {
	logger   *zap.Logger
	clock    Clock
	handlers []func(Alert)
	gauges   []gauge
	procRoot string
	pools    []*httppool.Pool
	// Smoke runs: see smoke.go.
	smokeOut  io.Writer
	smokeDone []func(SmokeReport)
}

// WithLogger sends the watchdog's logs to l, named "watchdog". A nil logger (the default)
// means zap.NewNop(). Of WithLogger and [WithSlog], the last given wins.
func WithLogger(l *zap.Logger) Option { return optionFunc(func(o *options) { o.logger = l }) }

// WithSlog sends the watchdog's logs to l: the same records, at the same levels, with the same
// fields as [WithLogger] gives a zap logger. Levels map to slog.LevelInfo, LevelWarn (warning
// alerts) and LevelError (critical alerts); the attribute "logger" is "watchdog"; an alert's
// fields are attributes of the names of its JSON (series, alert_level, rate_per_min, reason,
// ...), and its evidence a group "evidence" (diagnosis, cause, facts, ...). A nil logger means
// no logs. The logger's handler runs on the sampling goroutine, as a zap core does: it must
// not block. Of WithSlog and WithLogger, the last given wins.
func WithSlog(l *slog.Logger) Option {
	return optionFunc(func(o *options) {
		o.logger = nil
		if l != nil {
			o.logger = newSlogLogger(l)
		}
	})
}

// WithClock replaces the system clock, for tests and simulations. A nil clock is ignored.
func WithClock(c Clock) Option {
	return optionFunc(func(o *options) {
		if c != nil {
			o.clock = c
		}
	})
}

// OnAlert adds a handler called with every alert (every change of a series' level). Each
// handler runs on a goroutine of its own, one alert at a time in order, never on the sampling
// goroutine, with a queue of its own of [Config.AlertQueue] alerts: a handler that is slow or
// blocks holds up only itself. Its alerts queue up and, once its queue is full, are dropped for
// it (counted in [Snapshot].AlertsDropped); the log, the snapshot, the evidence and the other
// handlers get every alert regardless. A handler that panics is recovered and counted. A
// handler may call [Watchdog.Stop]. A nil handler is ignored.
func OnAlert(fn func(Alert)) Option {
	return optionFunc(func(o *options) {
		if fn != nil {
			o.handlers = append(o.handlers, fn)
		}
	})
}

// WithGauge samples fn every tick as a series named name, judged like the built-ins (give it a
// rule in [Config.Rules]). fn runs on a goroutine of its own, never on the sampling goroutine:
// each tick reads the value fn returned most recently, so a gauge lags by at most one
// Interval; one that panics, returns NaN or ±Inf, or has not returned for a whole Interval is
// counted, and its series has no reading (Valid false) and reports an error for that tick. Names
// must match [a-z][a-z0-9_]*, the one rule for pools, gauges and series, not collide with another
// series, and be neither "t" nor end in "_limit" (a recording's time and limit columns, see
// [RecordConfig]); [Start] rejects them otherwise.
func WithGauge(name string, fn func() float64) Option {
	return optionFunc(func(o *options) { o.gauges = append(o.gauges, gauge{name, fn}) })
}

// WithProcRoot reads process statistics from root instead of "/proc" (for tests on fixture
// files or a container's proc mount).
func WithProcRoot(root string) Option { return optionFunc(func(o *options) { o.procRoot = root }) }
