package watchdog

import (
	"math"
	"testing"
	"time"
)

// TestEngineUnreadConfirmsPendingRaise: a series read only now and then (the live heap,
// between two collections) is unread (NaN) on most ticks. A raise its last reading supported
// must confirm on time, on an unread tick, not wait for the next reading; and unread ticks
// must neither reset the confirmation clock nor resolve anything.
func TestEngineUnreadConfirmsPendingRaise(t *testing.T) {
	cfg := Config{Window: 40 * time.Second, Warmup: time.Nanosecond, Confirm: 10 * time.Second, Resolve: 20 * time.Second,
		Rules: map[string]Rule{"x": {Below: 1, BelowLevel: LevelWarning}}}.withDefaults()
	e, err := newEngine(cfg, []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	origin := time.Unix(1000, 0)
	nan := math.NaN()
	steps := []struct {
		at   time.Duration
		v    float64
		want Level
	}{
		{0, 0, LevelOK},                       // the first sample is the warm-up's
		{time.Second, 0, LevelOK},             // below: the raise is pending, due at 11 s
		{5 * time.Second, nan, LevelOK},       // unread, not yet due
		{10 * time.Second, nan, LevelOK},      // unread, not yet due
		{11 * time.Second, nan, LevelWarning}, // unread, due: confirmed on this tick
		{20 * time.Second, 5, LevelWarning},   // a reading above: resolving starts
		{45 * time.Second, nan, LevelWarning}, // unread ticks resolve nothing, however long
		{46 * time.Second, 5, LevelOK},        // a reading 26 s after the first above: resolved
	}
	for _, s := range steps {
		e.step(origin.Add(s.at), []float64{s.v}, []float64{nan})
		if got := e.series[0].level; got != s.want {
			t.Fatalf("at %v (value %v): level %v, want %v", s.at, s.v, got, s.want)
		}
		changed := len(e.changed) == 1
		if s.at == 11*time.Second && (!changed || e.alert(0).Level != LevelWarning || e.alert(0).Cause != CauseBelow) {
			t.Fatalf("at 11 s: changed %v, alert %+v; want the warning, cause below", e.changed, e.alert(0))
		}
	}
}
