package watchdog

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
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

var durationType = reflect.TypeFor[time.Duration]()

// fillDurations sets every exported time.Duration reachable from v (addressable) to a value of
// its own, allocating nil pointers and giving empty slices one element, and records each value
// (in nanoseconds) with the field's path in set.
func fillDurations(v reflect.Value, path string, set map[int64]string, depth int) {
	if depth > 12 || !v.CanSet() {
		return
	}
	switch {
	case v.Type() == durationType:
		d := int64(len(set)+1)*int64(time.Second) + 123456789 // 1.123456789s, 2.123456789s, ...
		v.SetInt(d)
		set[d] = path
		return
	case v.Type() == reflect.TypeFor[time.Time]():
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fillDurations(v.Elem(), path, set, depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fillDurations(v.Field(i), path+"."+f.Name, set, depth+1)
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		}
		fillDurations(v.Index(0), path+"[0]", set, depth+1)
	case reflect.Array:
		for i := range v.Len() {
			fillDurations(v.Index(i), path+"["+strconv.Itoa(i)+"]", set, depth+1)
		}
	}
}

// wireProblems walks decoded JSON and reports every key ending in _ns and every number that is
// one of the durations in set in nanoseconds (a time.Duration encoded as it is); seen collects
// the numbers.
func wireProblems(v any, at string, set map[int64]string, seen map[float64]bool) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if strings.HasSuffix(k, "_ns") {
				out = append(out, fmt.Sprintf("%s.%s: a nanosecond key", at, k))
			}
			out = append(out, wireProblems(x[k], at+"."+k, set, seen)...)
		}
	case []any:
		for i, e := range x {
			out = append(out, wireProblems(e, fmt.Sprintf("%s[%d]", at, i), set, seen)...)
		}
	case float64:
		seen[x] = true
		if f, ok := set[int64(x)]; ok && float64(int64(x)) == x {
			out = append(out, fmt.Sprintf("%s = %v: the Go duration %s in nanoseconds", at, x, f))
		}
	}
	return out
}

// TestWireDurationsInSeconds: in the JSON of a Snapshot, of a SmokeReport, of GET /watchdog and
// of attribution's heap reports (every duration field filled, whatever the types hold now or
// later), no key ends in _ns, no number is a Go duration in nanoseconds, and every duration is
// there in seconds. A live watchdog's /watchdog and /smoke answer the same way.
func TestWireDurationsInSeconds(t *testing.T) {
	for _, v := range []any{&Snapshot{}, &SmokeReport{}, &watchdogView{}, &attribution.HeapReport{}, &attribution.HeapProfile{}} {
		name := reflect.TypeOf(v).Elem().String()
		set := map[int64]string{}
		fillDurations(reflect.ValueOf(v).Elem(), name, set, 0)
		if name != "watchdog.watchdogView" && len(set) == 0 {
			t.Errorf("%s: no duration field found to fill", name)
		}
		t.Logf("%s: %d duration fields", name, len(set))
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var j any
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatal(err)
		}
		seen := map[float64]bool{}
		for _, p := range wireProblems(j, name, set, seen) {
			t.Error(p)
		}
		for ns, f := range set {
			if !seen[time.Duration(ns).Seconds()] {
				t.Errorf("%s (%v) is not in the JSON in seconds", f, time.Duration(ns))
			}
		}
	}
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Attribution.Disabled = true
		c.Smoke = SmokeConfig{Enabled: true, Duration: 4 * time.Second, Checkpoint: time.Second}
		core, logs := observer.New(zapcore.DebugLevel)
		w, err := Start(t.Context(), c, WithLogger(zap.New(core)))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(2 * time.Second)
		defer func() {
			time.Sleep(4 * time.Second) // the run ends
			w.Stop()
			ev := &Evidence{}
			fillDurations(reflect.ValueOf(ev).Elem(), "Evidence", map[int64]string{}, 0)
			entries := append(logs.All(), observer.LoggedEntry{
				Entry: zapcore.Entry{Message: "an evidence"}, Context: []zap.Field{zap.Object("evidence", ev)}})
			fields := map[string]bool{}
			for _, e := range entries {
				enc := zapcore.NewMapObjectEncoder()
				for _, f := range e.Context {
					f.AddTo(enc)
				}
				for _, p := range logDurations(enc.Fields, e.Message, fields) {
					t.Error(p)
				}
			}
			for _, k := range []string{"duration_s", "checkpoint_s", "warmup_s", "elapsed_s", "cost_s", "max_pause_s"} {
				if !fields[k] {
					t.Errorf("no log field %s in %d entries", k, len(entries))
				}
			}
		}()
		h := w.Handler(HandlerOptions{})
		for _, path := range []string{"/watchdog", "/smoke"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			var j map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &j); err != nil {
				t.Fatalf("GET %s: %v\n%s", path, err, rec.Body)
			}
			for _, p := range wireProblems(j, path, nil, map[float64]bool{}) {
				t.Error(p)
			}
			want := map[string]float64{"/watchdog": c.Interval.Seconds(), "/smoke": c.Smoke.Duration.Seconds()}[path]
			if k := map[string]string{"/watchdog": "interval_s", "/smoke": "duration_s"}[path]; j[k] != want {
				t.Errorf("GET %s: %s = %v, want %v", path, k, j[k], want)
			}
		}
	})
}

// logDurations reports the log fields, at any depth, that are Go durations (which encoders
// write as they please: seconds, nanoseconds, "1.5s") or whose names end in _ns; seen collects
// the names.
func logDurations(fields map[string]any, at string, seen map[string]bool) []string {
	var out []string
	for k, v := range fields {
		seen[k] = true
		switch x := v.(type) {
		case time.Duration:
			out = append(out, fmt.Sprintf("%s: field %s is a Go duration (%v), not seconds", at, k, x))
		case map[string]any:
			out = append(out, logDurations(x, at+"."+k, seen)...)
		}
		if strings.HasSuffix(k, "_ns") {
			out = append(out, fmt.Sprintf("%s: field %s is in nanoseconds", at, k))
		}
	}
	return out
}
