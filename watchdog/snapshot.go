package watchdog

import (
	"encoding/json"
	"math"
	"time"
)

// Snapshot is the watchdog's state at one moment: every series' value, rate and level, the
// recent alerts, the probe errors and the watchdog's own cost and health. It is a copy: the
// caller owns it. In JSON, as everywhere on the wire, durations are seconds (interval_s,
// window_s, attribution_cost_s, time_to_exhaustion_s, the cost's *_s).
type Snapshot struct {
	// Time of the snapshot, Started when the watchdog started, LastTick when the last sample was
	// taken (zero before the first).
	Time     time.Time `json:"time"`
	Started  time.Time `json:"started"`
	LastTick time.Time `json:"last_tick"`
	// Running is false once the watchdog has stopped.
	Running bool `json:"running"`
	// Stalled is true when the watchdog runs but no tick completed within StallAfter: the
	// sampling goroutine is wedged or starved.
	Stalled bool `json:"stalled"`
	// Interval and Window in force.
	Interval time.Duration `json:"-"` // JSON: interval_s
	Window   time.Duration `json:"-"` // JSON: window_s
	// Series in a stable order: the built-ins, then HTTP pools, then gauges.
	Series []SeriesSnapshot `json:"series"`
	// Alerts are the most recent level changes, oldest first (at most Config.RecentAlerts).
	Alerts []Alert `json:"alerts"`
	// AlertsTotal counts the level changes since Start by the level reached, with an entry for
	// every level (0 included): AlertsTotal[LevelOK] counts resolutions. In JSON the keys are
	// the level names: {"ok": 2, "notice": 0, "warning": 1, "critical": 0}.
	AlertsTotal map[Level]uint64 `json:"alerts_total"`
	// Cost of the watchdog's ticks.
	Cost Cost `json:"cost"`
	// ProbeErrors counts failed reads of any series since Start.
	ProbeErrors uint64 `json:"probe_errors"`
	// HandlerPanics counts recovered panics of OnAlert handlers; AlertsDropped the alerts not
	// delivered to a handler because its queue was full (one per handler and alert).
	HandlerPanics uint64 `json:"handler_panics"`
	AlertsDropped uint64 `json:"alerts_dropped"`
	// GaugePanics counts recovered panics of gauges; GaugeStalls the ticks at which a gauge had
	// not returned since the previous one.
	GaugePanics uint64 `json:"gauge_panics"`
	GaugeStalls uint64 `json:"gauge_stalls"`
	// TickPanics counts recovered panics of the sampling tick (a [Clock] that panics, or a
	// bug): each loses that tick's sample, and sampling goes on. LogPanics counts log records
	// lost to a logger core or slog handler that panicked.
	TickPanics uint64 `json:"tick_panics"`
	LogPanics  uint64 `json:"log_panics"`
	// Attributions counts the attribution snapshots taken for alerts; AttributionCost is the
	// wall time the last one took (it runs on the handlers' goroutine, never on the sampling one).
	Attributions    uint64        `json:"attributions"`
	AttributionCost time.Duration `json:"-"` // JSON: attribution_cost_s
}

type snapshotJSON struct {
	snapshotFields
	Interval        float64 `json:"interval_s"`
	Window          float64 `json:"window_s"`
	AttributionCost float64 `json:"attribution_cost_s"`
}

type snapshotFields Snapshot // Snapshot without its methods

// MarshalJSON encodes the snapshot with its durations in seconds.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(snapshotJSON{snapshotFields(s), s.Interval.Seconds(), s.Window.Seconds(), s.AttributionCost.Seconds()})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (s *Snapshot) UnmarshalJSON(b []byte) error {
	var x snapshotJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*s = Snapshot(x.snapshotFields)
	s.Interval, s.Window, s.AttributionCost = fromSeconds(x.Interval), fromSeconds(x.Window), fromSeconds(x.AttributionCost)
	return nil
}

// SeriesSnapshot is one series in a [Snapshot].
type SeriesSnapshot struct {
	// Name of the series.
	Name string `json:"name"`
	// Value at the last tick; Valid is false when it could not be read or was not finite (NaN,
	// ±Inf): then Value is 0. Every figure of a snapshot is finite, so it always encodes as JSON.
	Value float64 `json:"value"`
	Valid bool    `json:"valid"`
	// Limit of the series when one is known (fds: RLIMIT_NOFILE), else 0.
	Limit float64 `json:"limit,omitempty"`
	// RatePerMin is the detector's growth estimate per minute over the window; RateReady is false
	// while the window has too little data for an estimate.
	RatePerMin float64 `json:"rate_per_min"`
	RateReady  bool    `json:"rate_ready"`
	// Baseline is the floor growth is measured from.
	Baseline float64 `json:"baseline,omitempty"`
	// Level and the Cause that set it, and since when.
	Level Level     `json:"level"`
	Cause Cause     `json:"cause"`
	Since time.Time `json:"since,omitempty"`
	// TimeToExhaustion is the projected time until the trend reaches Limit; 0 when none.
	TimeToExhaustion time.Duration `json:"-"` // JSON: time_to_exhaustion_s, omitted when 0
	// Unsupported is true for a probe this system lacks (fds on macOS).
	Unsupported bool `json:"unsupported,omitempty"`
	// Errors counts failed reads; LastError is the most recent one's text.
	Errors    uint64 `json:"errors,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

type seriesSnapshotJSON struct {
	seriesSnapshotFields
	TimeToExhaustion float64 `json:"time_to_exhaustion_s,omitempty"`
}

type seriesSnapshotFields SeriesSnapshot

// MarshalJSON encodes the series with its time to exhaustion in seconds.
func (x SeriesSnapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(seriesSnapshotJSON{seriesSnapshotFields(x), x.TimeToExhaustion.Seconds()})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (x *SeriesSnapshot) UnmarshalJSON(b []byte) error {
	var j seriesSnapshotJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*x = SeriesSnapshot(j.seriesSnapshotFields)
	x.TimeToExhaustion = fromSeconds(j.TimeToExhaustion)
	return nil
}

// Snapshot returns the current state. It is safe for concurrent use and after Stop, and costs
// O(series + recent alerts).
func (w *Watchdog) Snapshot() Snapshot {
	now := w.clock.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	s := Snapshot{
		Time: now, Started: w.started, LastTick: w.lastTick, Running: w.running,
		Interval: w.cfg.Interval, Window: w.cfg.Window, Cost: w.cost,
		ProbeErrors:     w.probeErrors.Load(),
		HandlerPanics:   w.handlerPanics.Load(),
		AlertsDropped:   w.handlerDropped.Load(),
		TickPanics:      w.tickPanics.Load(),
		LogPanics:       w.logPanics.Load(),
		Series:          make([]SeriesSnapshot, len(w.names)),
		AlertsTotal:     make(map[Level]uint64, len(w.alertsTotal)),
		Attributions:    w.attributions.Load(),
		AttributionCost: time.Duration(w.attributionNanos.Load()),
	}
	for l, n := range w.alertsTotal {
		s.AlertsTotal[Level(l)] = n
	}
	if w.gauges != nil {
		s.GaugePanics, s.GaugeStalls = w.gauges.panics.Load(), w.gauges.stalls.Load()
	}
	last := w.lastTick
	if last.IsZero() {
		last = w.started
	}
	s.Stalled = w.running && now.Sub(last) > w.cfg.StallAfter
	for i, n := range w.names {
		st := w.series[i]
		ss := SeriesSnapshot{
			Name: n, Level: st.level, Cause: st.cause, Since: st.since,
			RatePerMin: finite(st.rate), RateReady: st.ready, Baseline: finite(st.baseline),
			TimeToExhaustion: st.exhaustion, Errors: st.errs, LastError: st.lastErr,
		}
		if v := w.snapVals[i]; !math.IsNaN(v) && !math.IsInf(v, 0) {
			ss.Value, ss.Valid = v, true
		}
		if l := w.snapLims[i]; l > 0 && !math.IsNaN(l) && !math.IsInf(l, 0) {
			ss.Limit = l
		}
		ss.Unsupported = !w.osp.supported() && (i == idxFDs || i == idxFDLimit || i == idxRSSBytes)
		s.Series[i] = ss
	}
	k := min(w.nAlerts, len(w.alerts))
	s.Alerts = make([]Alert, 0, k)
	for j := w.nAlerts - k; j < w.nAlerts; j++ {
		s.Alerts = append(s.Alerts, w.alerts[j%len(w.alerts)])
	}
	return s
}

// Lookup returns the series named name from the snapshot, and whether it exists.
func (s Snapshot) Lookup(name string) (SeriesSnapshot, bool) {
	for _, x := range s.Series {
		if x.Name == name {
			return x, true
		}
	}
	return SeriesSnapshot{}, false
}

// History returns the kept samples of the series named name, oldest first (at most
// Config.HistorySize), or nil for an unknown series. Safe for concurrent use and after Stop.
func (w *Watchdog) History(name string) []Point {
	i, ok := w.index[name]
	if !ok {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hist.series(i)
}

// SeriesNames returns the names of the watchdog's series in snapshot order.
func (w *Watchdog) SeriesNames() []string { return append([]string(nil), w.names...) }

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
