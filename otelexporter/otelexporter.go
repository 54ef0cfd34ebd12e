package otelexporter

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/leakwatch/leakwatch/watchdog"
)

// ScopeName is the instrumentation scope of the meter [Register] takes from the provider.
const ScopeName = "github.com/leakwatch/leakwatch/otelexporter"

// Attribute keys of the instruments.
const (
	SeriesKey          = attribute.Key("leakwatch.series")      // the watchdog's series name
	PoolKey            = attribute.Key("leakwatch.pool")        // an HTTP pool's name
	LevelKey           = attribute.Key("leakwatch.level")       // ok, notice, warning, critical
	ConnectionStateKey = attribute.Key("http.connection.state") // active or idle (semantic conventions)
)

// kind of an instrument: how a series' value is observed.
type kind uint8

const (
	kindUpDown       kind = iota // Int64ObservableUpDownCounter
	kindCounter                  // Int64ObservableCounter
	kindGauge                    // Float64ObservableGauge
	kindIntGauge                 // Int64ObservableGauge
	kindFloatCounter             // Float64ObservableCounter
)

// float reports whether instruments of kind k observe float64 values.
func (k kind) float() bool { return k == kindGauge || k == kindFloatCounter }

// instrument describes one instrument of a series.
type instrument struct {
	name, unit, help string
	kind             kind
}

// builtin maps the watchdog's built-in series to their instruments.
var builtin = map[string]instrument{
	watchdog.SeriesGoroutines:        {"go.goroutine.count", "{goroutine}", "Count of live goroutines.", kindUpDown},
	watchdog.SeriesThreads:           {"process.thread.count", "{thread}", "Process threads count.", kindUpDown},
	watchdog.SeriesFDs:               {"process.unix.file_descriptor.count", "{file_descriptor}", "Number of unix file descriptors in use by the process.", kindUpDown},
	watchdog.SeriesRSSBytes:          {"process.memory.usage", "By", "The amount of physical memory in use (resident set size).", kindUpDown},
	watchdog.SeriesGoroutinesCreated: {"leakwatch.goroutine.created", "{goroutine}", "Goroutines created since the program started (/sched/goroutines-created:goroutines).", kindCounter},
	watchdog.SeriesHeapBytes:         {"leakwatch.heap.usage", "By", "Bytes in live and unswept heap objects (/memory/classes/heap/objects:bytes).", kindUpDown},
	watchdog.SeriesFDLimit:           {"leakwatch.file_descriptor.limit", "{file_descriptor}", "Soft limit on the process's open file descriptors (RLIMIT_NOFILE).", kindUpDown},
}

// httpSeries maps an HTTP pool series suffix to its instrument; active and idle share
// http.client.open_connections, told apart by http.connection.state.
var httpSeries = map[string]instrument{
	watchdog.HTTPActive:       {"http.client.open_connections", "{connection}", "Number of outbound HTTP connections that are currently active or idle on the client.", kindUpDown},
	watchdog.HTTPIdle:         {"http.client.open_connections", "{connection}", "Number of outbound HTTP connections that are currently active or idle on the client.", kindUpDown},
	watchdog.HTTPRequests:     {"leakwatch.http.client.requests", "{request}", "Requests sent through the HTTP pool.", kindCounter},
	watchdog.HTTPErrors:       {"leakwatch.http.client.errors", "{error}", "Transport errors of the HTTP pool (failed dials, timeouts, resets).", kindCounter},
	watchdog.HTTPResponses5xx: {"leakwatch.http.client.responses_5xx", "{response}", "5xx responses received by the HTTP pool (not counted as errors).", kindCounter},
	watchdog.HTTPReuseRatio:   {"leakwatch.http.client.connection.reuse_ratio", "1", "Share of the HTTP pool's requests served on an already-open connection, 0..1.", kindGauge},
	watchdog.HTTPWaiting:      {"leakwatch.http.client.waiting_requests", "{request}", "Requests of the HTTP pool waiting for a connection (MaxConnsPerHost).", kindUpDown},
}

// userGauge is the instrument of series given with watchdog.WithGauge (and of any series this
// package does not know).
var userGauge = instrument{"leakwatch.series.value", "1", "Value of a series sampled from a function registered with watchdog.WithGauge, by series name.", kindGauge}

// observation is how one series' value is observed: on which instrument, with which attributes.
type observation struct {
	i64   metric.Int64Observable // set for kindUpDown and kindCounter
	f64   metric.Float64Observable
	attrs metric.ObserveOption
	// perSeries holds the attributes of the series' verdict instruments (leakwatch.series).
	perSeries metric.ObserveOption
}

type exporter struct {
	w      *watchdog.Watchdog
	meter  metric.Meter
	series map[string]observation

	level, probeErrors, alerts, ticks metric.Int64Observable
	stalled, running                  metric.Int64Observable
	rate, exhaustion, tickTime        metric.Float64Observable
	levelAttrs                        []metric.ObserveOption // by Level

	instruments []metric.Observable // every instrument, for RegisterCallback
	created     map[string]created  // by name: active and idle share one
	errs        []error
}

// created is an instrument made on the meter, with the kind it was made as.
type created struct {
	o    metric.Observable
	kind kind
}

// Register creates the instruments of the package doc on mp's meter [ScopeName] and registers
// one callback that observes them from w.Snapshot() at every collection. Unregister the returned
// registration to stop observing; the instruments stay with the meter. Series, HTTP pools and
// gauges are those of w at Register (they are fixed at watchdog.Start). w and mp must not be
// nil; an error comes from the meter (a bad instrument) and names the instrument.
func Register(w *watchdog.Watchdog, mp metric.MeterProvider) (metric.Registration, error) {
	if w == nil || mp == nil {
		return nil, errors.New("otelexporter: Register needs a watchdog and a meter provider")
	}
	e := &exporter{w: w, series: map[string]observation{}, created: map[string]created{},
		meter: mp.Meter(ScopeName)}

	pool := map[string][2]string{} // series -> pool, suffix
	for _, p := range w.HTTPPools() {
		for _, s := range p.Series {
			pool[s.Name] = [2]string{p.Pool, s.Suffix}
		}
	}
	for _, name := range w.SeriesNames() {
		per := metric.WithAttributeSet(attribute.NewSet(SeriesKey.String(name)))
		if in, ok := builtin[name]; ok {
			e.series[name] = e.observation(in, metric.WithAttributeSet(*attribute.EmptySet()), per)
			continue
		}
		if ps, ok := pool[name]; ok {
			if in, ok := httpSeries[ps[1]]; ok {
				attrs := []attribute.KeyValue{PoolKey.String(ps[0])}
				if ps[1] == watchdog.HTTPActive || ps[1] == watchdog.HTTPIdle {
					attrs = append(attrs, ConnectionStateKey.String(ps[1]))
				}
				e.series[name] = e.observation(in, metric.WithAttributeSet(attribute.NewSet(attrs...)), per)
				continue
			}
			if ps[1] == watchdog.HTTPOpen {
				// The sum of the two states of http.client.open_connections: its verdicts only.
				e.series[name] = observation{perSeries: per}
				continue
			}
		}
		e.series[name] = e.observation(userGauge, per, per)
	}
	e.level = e.ints(instrument{"leakwatch.level", "1", "Level of the series as judged by the watchdog: 0 ok, 1 notice, 2 warning, 3 critical.", kindIntGauge})
	e.probeErrors = e.ints(instrument{"leakwatch.probe.errors", "{error}", "Failed reads of the series since the watchdog started.", kindCounter})
	e.rate = e.floats(instrument{"leakwatch.growth_rate", "{item}/min", "Sustained growth of the series per minute estimated over the watchdog's window; absent until the window holds enough data.", kindGauge})
	e.exhaustion = e.floats(instrument{"leakwatch.time_to_exhaustion", "s", "Projected time until the series' trend reaches its limit; absent when there is no forecast.", kindGauge})
	e.alerts = e.ints(instrument{"leakwatch.alerts", "{alert}", "Level changes since the watchdog started, by the level reached (ok counts resolutions).", kindCounter})
	e.ticks = e.ints(instrument{"leakwatch.watchdog.ticks", "{tick}", "Ticks (samples of every series) taken by the watchdog.", kindCounter})
	e.tickTime = e.floats(instrument{"leakwatch.watchdog.tick.time", "s", "Wall time spent in the watchdog's ticks.", kindFloatCounter})
	e.stalled = e.ints(instrument{"leakwatch.watchdog.stalled", "1", "1 when the watchdog runs but no tick completed within its StallAfter, else 0.", kindIntGauge})
	e.running = e.ints(instrument{"leakwatch.watchdog.running", "1", "1 while the watchdog runs, 0 once it has stopped.", kindIntGauge})
	for l := watchdog.LevelOK; l <= watchdog.LevelCritical; l++ {
		e.levelAttrs = append(e.levelAttrs, metric.WithAttributeSet(attribute.NewSet(LevelKey.String(l.String()))))
	}
	if err := errors.Join(e.errs...); err != nil {
		return nil, err
	}
	return e.meter.RegisterCallback(e.observe, e.instruments...)
}

// observation creates (once per name) the instrument in and returns how a series observes it.
func (e *exporter) observation(in instrument, attrs, per metric.ObserveOption) observation {
	o := observation{attrs: attrs, perSeries: per}
	if in.kind.float() {
		o.f64 = e.floats(in)
	} else {
		o.i64 = e.ints(in)
	}
	return o
}

// ints returns the int64 instrument in (see create); nil after an error.
func (e *exporter) ints(in instrument) metric.Int64Observable {
	o, _ := e.create(in).(metric.Int64Observable)
	return o
}

// floats returns the float64 instrument in (see create); nil after an error.
func (e *exporter) floats(in instrument) metric.Float64Observable {
	o, _ := e.create(in).(metric.Float64Observable)
	return o
}

// create returns the instrument already created under in's name, or creates it on the meter.
// An error (the meter's, or one name asked for as two kinds) is kept for Register to return,
// and create returns nil.
func (e *exporter) create(in instrument) metric.Observable {
	if c, ok := e.created[in.name]; ok {
		if c.kind != in.kind {
			e.errs = append(e.errs, fmt.Errorf("otelexporter: instrument %s created with two kinds", in.name))
			return nil
		}
		return c.o
	}
	unit, help := metric.WithUnit(in.unit), metric.WithDescription(in.help)
	var (
		o   metric.Observable
		err error
	)
	switch in.kind {
	case kindUpDown:
		o, err = e.meter.Int64ObservableUpDownCounter(in.name, unit, help)
	case kindCounter:
		o, err = e.meter.Int64ObservableCounter(in.name, unit, help)
	case kindIntGauge:
		o, err = e.meter.Int64ObservableGauge(in.name, unit, help)
	case kindFloatCounter:
		o, err = e.meter.Float64ObservableCounter(in.name, unit, help)
	default:
		o, err = e.meter.Float64ObservableGauge(in.name, unit, help)
	}
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("otelexporter: instrument %s: %w", in.name, err))
		return nil
	}
	e.created[in.name] = created{o, in.kind}
	e.instruments = append(e.instruments, o)
	return o
}

// observe is the callback: one snapshot, every instrument.
func (e *exporter) observe(_ context.Context, o metric.Observer) error {
	s := e.w.Snapshot()
	for _, ss := range s.Series {
		ob, ok := e.series[ss.Name]
		if !ok {
			continue // not a series of w at Register: cannot happen, the series are fixed at Start
		}
		if ss.Valid {
			switch {
			case ob.i64 != nil:
				o.ObserveInt64(ob.i64, int64(ss.Value), ob.attrs)
			case ob.f64 != nil:
				o.ObserveFloat64(ob.f64, ss.Value, ob.attrs)
			}
		}
		o.ObserveInt64(e.level, int64(ss.Level), ob.perSeries)
		o.ObserveInt64(e.probeErrors, int64(ss.Errors), ob.perSeries)
		if ss.RateReady {
			o.ObserveFloat64(e.rate, ss.RatePerMin, ob.perSeries)
		}
		if ss.TimeToExhaustion > 0 {
			o.ObserveFloat64(e.exhaustion, ss.TimeToExhaustion.Seconds(), ob.perSeries)
		}
	}
	for l, n := range s.AlertsTotal {
		if int(l) < len(e.levelAttrs) {
			o.ObserveInt64(e.alerts, int64(n), e.levelAttrs[l])
		}
	}
	o.ObserveInt64(e.ticks, int64(s.Cost.Ticks))
	o.ObserveFloat64(e.tickTime, s.Cost.Total.Seconds())
	o.ObserveInt64(e.stalled, boolInt(s.Stalled))
	o.ObserveInt64(e.running, boolInt(s.Running))
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
