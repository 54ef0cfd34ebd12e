package watchdog

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Cause says which rule set an alert's level.
type Cause uint8

const (
	// CauseNone: the series is back at ok (a resolution).
	CauseNone Cause = iota
	// CauseGrowth: sustained growth per minute over the window crossed a threshold.
	CauseGrowth
	// CauseExhaustion: the trend reaches the series' limit within an exhaustion horizon.
	CauseExhaustion
	// CauseLimit: the value has reached its limit.
	CauseLimit
	// CauseIncrease: a counter (such as HTTP errors) increased within the window.
	CauseIncrease
	// CauseBelow: the value is below its floor (no idle connection, low reuse) while traffic flows.
	CauseBelow
	// CauseStaircase: repeated upward level shifts (a batch job leaking a few at a time) add up
	// to a growth rate over a threshold.
	CauseStaircase
	// CauseResidue: goroutines that a leak left behind after its growth stopped, proven leaked
	// or blocked with none returned (a notice the watchdog raises from the evidence, and
	// resolves once they are gone). See [Evidence.Residue].
	CauseResidue
)

var causeNames = [...]string{"none", "growth", "exhaustion", "limit", "increase", "below", "staircase", "residue"}

// String returns the cause's name: "none", "growth", "exhaustion", "limit", "increase",
// "below", "staircase" or "residue".
func (c Cause) String() string {
	if int(c) < len(causeNames) {
		return causeNames[c]
	}
	return fmt.Sprintf("cause(%d)", uint8(c))
}

// MarshalText encodes the cause as its name.
func (c Cause) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes a cause name as written by [Cause.MarshalText].
func (c *Cause) UnmarshalText(b []byte) error {
	for i, n := range causeNames {
		if n == string(b) {
			*c = Cause(i)
			return nil
		}
	}
	return fmt.Errorf("watchdog: unknown cause %q", b)
}

// Alert is one change of a series' level, delivered to the log, to [OnAlert] handlers, to the
// snapshot and to the exporter. New fields may be added; handlers take the struct by value.
//
// Its JSON and its log fields use one vocabulary: the names below (series, alert_level,
// previous_level, cause, value, baseline, rate_per_min, window_s, limit, alert_id,
// time_to_exhaustion_s, created_per_min, reason, evidence), durations in seconds.
type Alert struct {
	// ID is the alert's sequence number within its watchdog, from 1, in the order alerts were
	// raised (0 for an alert that no watchdog raised, such as one from [Replay]). Evidence
	// collected later for an alert is attached to the alert with its ID.
	ID uint64 `json:"alert_id,omitempty"`
	// Time of the sample that changed the level.
	Time time.Time `json:"time"`
	// Series is the name of the series ("goroutines", "fds", "http_docker_idle", ...).
	Series string `json:"series"`
	// Level is the new level, Previous the one before.
	Level    Level `json:"alert_level"`
	Previous Level `json:"previous_level"`
	// Cause is the rule that set Level.
	Cause Cause `json:"cause"`
	// Value is the series' value at Time; Baseline the floor its growth is measured from.
	Value    float64 `json:"value"`
	Baseline float64 `json:"baseline"`
	// RatePerMin is the growth per minute estimated over Window: the span of data the verdict
	// was taken over, the configured [Config.Window] or less when a fast leak was judged early
	// (the reason says the same span).
	RatePerMin float64       `json:"rate_per_min"`
	Window     time.Duration `json:"-"` // JSON: window_s
	// Limit is the series' limit (0 when none is known); TimeToExhaustion the projected time until
	// the trend reaches it (0 when no forecast).
	Limit            float64       `json:"limit,omitempty"`
	TimeToExhaustion time.Duration `json:"-"` // JSON: time_to_exhaustion_s, omitted when 0
	// CreatedPerMin, for goroutines, is the creation rate over the window beside the retained
	// growth RatePerMin: "created 3000/min, retained 25/min". NaN-free: 0 when unknown.
	CreatedPerMin float64 `json:"created_per_min,omitempty"`
	// Reason says in words why the level changed.
	Reason string `json:"reason"`
	// Evidence is what attribution found (goroutine groups, descriptors, a diagnosis) for an
	// alert at warning or critical, or why it has no snapshot (Evidence.Skipped: its series'
	// cooldown, which an escalation is not held back by, attribution disabled, a full queue). It
	// is collected on the handlers' goroutine: handlers receive it, and the snapshot's copy of
	// the alert gets it once ready.
	Evidence *Evidence `json:"evidence,omitempty"`
}

// finite returns a with its non-finite figures (NaN, ±Inf) set to 0, so that every sink and
// encoding (JSON has no NaN) can take it.
func (a Alert) finite() Alert {
	a.Value, a.Baseline, a.RatePerMin = finite(a.Value), finite(a.Baseline), finite(a.RatePerMin)
	a.Limit, a.CreatedPerMin = finite(a.Limit), finite(a.CreatedPerMin)
	return a
}

// alertJSON is Alert on the wire: its durations in seconds.
type alertJSON struct {
	alertFields
	Window           float64 `json:"window_s"`
	TimeToExhaustion float64 `json:"time_to_exhaustion_s,omitempty"`
}

type alertFields Alert // Alert without its methods

// MarshalJSON encodes the alert with its durations in seconds (window_s,
// time_to_exhaustion_s).
func (a Alert) MarshalJSON() ([]byte, error) {
	return json.Marshal(alertJSON{alertFields(a), a.Window.Seconds(), a.TimeToExhaustion.Seconds()})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (a *Alert) UnmarshalJSON(b []byte) error {
	var x alertJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*a = Alert(x.alertFields)
	a.Window, a.TimeToExhaustion = fromSeconds(x.Window), fromSeconds(x.TimeToExhaustion)
	return nil
}

// fromSeconds converts seconds, as the JSON carries durations, to a Duration.
func fromSeconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// Resolved reports whether the alert marks a return to ok.
func (a Alert) Resolved() bool { return a.Level == LevelOK }

// String returns a one-line summary: "goroutines ok -> warning: growing 23.8/min over 5m0s ...".
func (a Alert) String() string {
	return fmt.Sprintf("%s %s -> %s: %s", a.Series, a.Previous, a.Level, a.Reason)
}

// zapFields returns the alert as structured fields, named as in its JSON. The level is
// "alert_level", not "level", which log encoders use for the entry's own level.
func (a Alert) zapFields() []zap.Field {
	f := make([]zap.Field, 0, 16)
	if a.ID != 0 {
		f = append(f, zap.Uint64("alert_id", a.ID))
	}
	f = append(f,
		zap.String("series", a.Series),
		zap.Stringer("alert_level", a.Level),
		zap.Stringer("previous_level", a.Previous),
		zap.Stringer("cause", a.Cause),
		zap.Float64("value", a.Value),
		zap.Float64("baseline", a.Baseline),
		zap.Float64("rate_per_min", round2(a.RatePerMin)),
		zap.Float64("window_s", a.Window.Seconds()),
		zap.String("reason", a.Reason),
	)
	if a.Limit > 0 {
		f = append(f, zap.Float64("limit", a.Limit))
	}
	if a.TimeToExhaustion > 0 {
		f = append(f, zap.Float64("time_to_exhaustion_s", a.TimeToExhaustion.Seconds()))
	}
	if a.CreatedPerMin > 0 {
		f = append(f, zap.Float64("created_per_min", round2(a.CreatedPerMin)))
	}
	if a.Evidence != nil {
		f = append(f, zap.Object("evidence", a.Evidence))
	}
	return f
}

// LogValue returns the alert as a slog group with the fields of its log records (the names of
// its JSON: series, alert_level, rate_per_min, reason, evidence, ...), so that
// slog.Info("leak", "alert", a) logs it whole.
func (a Alert) LogValue() slog.Value {
	return slogValue(zapcore.ObjectMarshalerFunc(func(enc zapcore.ObjectEncoder) error {
		for _, f := range a.zapFields() {
			f.AddTo(enc)
		}
		return nil
	}))
}

// logLevel: warning and critical at Warn and Error, everything else (notices, resolutions) at Info.
func (a Alert) logLevel() zapcore.Level {
	switch a.Level {
	case LevelCritical:
		return zapcore.ErrorLevel
	case LevelWarning:
		return zapcore.WarnLevel
	}
	return zapcore.InfoLevel
}

func round2(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*100) / 100
}
