package watchdog

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/trend"
)

// ReplayOption changes how [Replay] runs.
type ReplayOption func(*replayOptions)

type replayOptions struct{ origin time.Time }

// ReplayOrigin sets the time origin of a replay: a sample at t seconds in the trace is judged
// at origin + t, and its alerts carry that time. Without it the origin is the Unix epoch,
// time.Unix(0, 0).UTC(), so an alert's Time.Unix() is its offset in the trace in seconds.
func ReplayOrigin(origin time.Time) ReplayOption {
	return func(o *replayOptions) { o.origin = origin }
}

// Replay runs a recorded trace through the same engine the live watchdog uses, with cfg's
// window, warm-up and rules (zero fields taking their defaults, as at Start), and calls fn with every alert (every change of a series' level),
// in time order. It returns the trace's first parse error (naming line and column) before any
// alert, or nil.
//
// The trace is CSV as [RecordConfig] writes it and as the detection corpus holds it: a header
// "t,name,name..." then one row per sample, t in seconds (irregular intervals and missing rows
// are fine; empty cells and NaN are unread samples). Columns without a rule are carried and
// never alert. A column "fd_limit" is the limit of "fds", and a column "NAME_limit" the limit of
// NAME, for exhaustion forecasts; a limit holds from one reading to the next. Rules in cfg for
// series the trace lacks are ignored.
//
// Because the engine is a pure function of the samples and their times, replaying a recording
// gives exactly the verdicts the live watchdog gave.
func Replay(r io.Reader, cfg Config, fn func(Alert), opts ...ReplayOption) error {
	ro := replayOptions{origin: time.Unix(0, 0).UTC()}
	for _, o := range opts {
		if o != nil {
			o(&ro)
		}
	}
	cfg = cfg.withDefaults()
	var p problems
	cfg.validate(&p)
	if err := p.err(); err != nil {
		return err
	}
	tr, err := trend.ReadCSV(r)
	if err != nil {
		return fmt.Errorf("watchdog: replay: %w", err)
	}
	limitOf := map[string]int{} // series -> column of its limit
	var names []string
	var cols []int
	for i, c := range tr.Columns {
		if s, ok := limitTarget(c); ok {
			limitOf[s] = i
			if c != SeriesFDLimit {
				continue // NAME_limit is a limit only; fd_limit is also a series of its own
			}
		}
		names = append(names, c)
		cols = append(cols, i)
	}
	rules := make(map[string]Rule, len(cfg.Rules))
	for _, n := range names {
		if r, ok := cfg.Rules[n]; ok {
			rules[n] = r
		}
	}
	cfg.Rules = rules
	eng, err := newEngine(cfg, names)
	if err != nil {
		return fmt.Errorf("watchdog: replay: %w", err)
	}
	vals, lims := nanSlice(len(names)), nanSlice(len(names))
	limCol := make([]int, len(names))
	for j, n := range names {
		limCol[j] = -1
		if c, ok := limitOf[n]; ok {
			limCol[j] = c
		}
	}
	for k, ts := range tr.T {
		for j, c := range cols {
			vals[j] = tr.Values[c][k]
			// A limit holds until the next reading: an empty or NaN cell is a row on which it
			// was not read (the live watchdog reads limits every few seconds).
			if limCol[j] >= 0 && !math.IsNaN(tr.Values[limCol[j]][k]) {
				lims[j] = tr.Values[limCol[j]][k]
			}
		}
		now := ro.origin.Add(time.Duration(math.Round(ts * float64(time.Second))))
		eng.step(now, vals, lims)
		for _, i := range eng.changed {
			fn(eng.alert(i))
		}
	}
	return nil
}

// limitTarget reports which series a column is the limit of.
func limitTarget(col string) (string, bool) {
	if col == SeriesFDLimit {
		return SeriesFDs, true
	}
	if s, ok := strings.CutSuffix(col, "_limit"); ok && s != "" {
		return s, true
	}
	return "", false
}
