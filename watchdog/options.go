package watchdog

import (
	"io"

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
// means zap.NewNop().
func WithLogger(l *zap.Logger) Option { return optionFunc(func(o *options) { o.logger = l }) }

// WithClock replaces the system clock, for tests and simulations. A nil clock is ignored.
func WithClock(c Clock) Option {
	return optionFunc(func(o *options) {
		if c != nil {
			o.clock = c
		}
	})
}

// OnAlert adds a handler called with every alert (every change of a series' level). Handlers
// run on a goroutine of their own, one alert at a time, never on the sampling goroutine: a
// handler that is slow or blocks makes alerts queue up and, past [Config.AlertQueue], be
// dropped for the handlers (counted in [Snapshot]); a handler that panics is recovered and
// counted. A nil handler is ignored.
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
// Interval; one that panics, returns NaN or has not returned for a whole Interval is counted
// and its series reports an error for that tick. Names must match [a-z_][a-z0-9_]* and not
// collide with another series.
func WithGauge(name string, fn func() float64) Option {
	return optionFunc(func(o *options) { o.gauges = append(o.gauges, gauge{name, fn}) })
}

// WithProcRoot reads process statistics from root instead of "/proc" (for tests on fixture
// files or a container's proc mount).
func WithProcRoot(root string) Option { return optionFunc(func(o *options) { o.procRoot = root }) }
