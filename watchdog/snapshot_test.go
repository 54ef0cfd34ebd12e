package watchdog

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap/zapcore"
)

// jsonKeys collects every object key of a decoded JSON value, at any depth.
func jsonKeys(v any, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			into[k] = true
			jsonKeys(e, into)
		}
	case []any:
		for _, e := range x {
			jsonKeys(e, into)
		}
	}
}

// TestWireVocabulary: the snapshot's JSON carries durations in seconds (no *_ns key at any
// depth), alert counts by level name, and round-trips; an alert's log fields have the names of
// its JSON keys.
func TestWireVocabulary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Attribution.Disabled = true
		c.Rules["errs"] = Rule{OnIncrease: LevelWarning}
		var n counter
		w, err := Start(t.Context(), c, WithGauge("errs", n.get))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		n.n.Add(1)
		time.Sleep(time.Second)
		s := w.Snapshot()
		w.Stop()
		if len(s.Alerts) == 0 {
			t.Fatal("no alert raised")
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		keys := map[string]bool{}
		jsonKeys(v, keys)
		for k := range keys {
			if strings.HasSuffix(k, "_ns") {
				t.Errorf("snapshot JSON has key %q: durations must be seconds (_s)", k)
			}
		}
		for _, k := range []string{"interval_s", "window_s", "attribution_cost_s", "mean_s", "alert_level", "previous_level"} {
			if !keys[k] {
				t.Errorf("snapshot JSON lacks %q", k)
			}
		}
		if got := v["interval_s"]; got != c.Interval.Seconds() {
			t.Errorf("interval_s = %v, want %v", got, c.Interval.Seconds())
		}
		totals, _ := v["alerts_total"].(map[string]any)
		if got := slices.Sorted(maps.Keys(totals)); !slices.Equal(got, []string{"critical", "notice", "ok", "warning"}) {
			t.Errorf("alerts_total keys = %v, want every level's name", got)
		}
		if totals["warning"] != float64(s.AlertsTotal[LevelWarning]) || s.AlertsTotal[LevelWarning] == 0 {
			t.Errorf("alerts_total = %v, AlertsTotal = %v", totals, s.AlertsTotal)
		}
		var back Snapshot
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Interval != s.Interval || back.Window != s.Window || back.Cost != s.Cost ||
			back.Alerts[0].Window != s.Alerts[0].Window || !maps.Equal(back.AlertsTotal, s.AlertsTotal) {
			t.Errorf("round trip: got interval %v window %v cost %+v alert window %v totals %v; want %v %v %+v %v %v",
				back.Interval, back.Window, back.Cost, back.Alerts[0].Window, back.AlertsTotal,
				s.Interval, s.Window, s.Cost, s.Alerts[0].Window, s.AlertsTotal)
		}

		// The log fields of an alert are its JSON keys (but the time, which is the entry's).
		a := s.Alerts[len(s.Alerts)-1]
		a.Limit, a.TimeToExhaustion, a.CreatedPerMin = 10, time.Minute, 1 // every optional field present
		ab, _ := json.Marshal(a)
		var aj map[string]any
		json.Unmarshal(ab, &aj)
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range a.zapFields() {
			f.AddTo(enc)
		}
		delete(aj, "time")
		if got, want := slices.Sorted(maps.Keys(enc.Fields)), slices.Sorted(maps.Keys(aj)); !slices.Equal(got, want) {
			t.Errorf("alert log fields %v, JSON keys %v: want the same names", got, want)
		}
		if aj["window_s"] != enc.Fields["window_s"] {
			t.Errorf("window_s: JSON %v, log %v", aj["window_s"], enc.Fields["window_s"])
		}
	})
}
