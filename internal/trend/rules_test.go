package trend

import (
	"math"
	"testing"
	"time"
)

// TestRulesHysteresis drives the floor, increase and limit rules through one Detector each,
// with the time as an argument, and checks the level after every sample: every rule is raised
// after Confirm (a limit reached and a counter's increase at once) and lowered only after
// Resolve without support.
func TestRulesHysteresis(t *testing.T) {
	p := Params{Window: 40 * time.Second, Warmup: -1} // Confirm 10 s, Resolve 20 s
	type step struct {
		at      time.Duration
		v       float64
		limit   float64
		flowing bool
		want    Level
	}
	s := time.Second
	tests := []struct {
		name   string
		rule   Rule
		warmup time.Duration
		steps  []step
	}{
		{"floor raised after Confirm", Rule{Below: 1, BelowLevel: Warning}, 0, []step{
			{0, 0, 0, true, OK}, {5 * s, 0, 0, true, OK}, {9 * s, 0, 0, true, OK}, {10 * s, 0, 0, true, Warning},
		}},
		{"floor broken before Confirm", Rule{Below: 1, BelowLevel: Warning}, 0, []step{
			{0, 0, 0, true, OK}, {5 * s, 1, 0, true, OK}, {10 * s, 0, 0, true, OK}, {19 * s, 0, 0, true, OK}, {20 * s, 0, 0, true, Warning},
		}},
		{"floor not raised without flow", Rule{Below: 1, BelowLevel: Warning}, 0, []step{
			{0, 0, 0, false, OK}, {30 * s, 0, 0, false, OK},
		}},
		{"one sample above the floor does not resolve", Rule{Below: 1, BelowLevel: Warning}, 0, []step{
			{0, 0, 0, true, OK}, {10 * s, 0, 0, true, Warning}, {11 * s, 1, 0, true, Warning}, {12 * s, 0, 0, true, Warning},
			{40 * s, 0, 0, true, Warning},
		}},
		{"floor resolved after Resolve", Rule{Below: 1, BelowLevel: Warning}, 0, []step{
			{0, 0, 0, true, OK}, {10 * s, 0, 0, true, Warning}, {11 * s, 2, 0, true, Warning}, {30 * s, 2, 0, true, Warning},
			{31 * s, 2, 0, true, OK},
		}},
		{"increase raised at once, resolved a Window and Resolve later", Rule{OnIncrease: Warning}, 0, []step{
			{0, 3, 0, true, OK}, {1 * s, 3, 0, true, OK}, {2 * s, 4, 0, true, Warning}, {41 * s, 4, 0, true, Warning},
			{42 * s, 4, 0, true, Warning}, {61 * s, 4, 0, true, Warning}, {62 * s, 4, 0, true, OK},
		}},
		{"a decrease is no increase", Rule{OnIncrease: Warning}, 0, []step{
			{0, 3, 0, true, OK}, {1 * s, 2, 0, true, OK}, {30 * s, 2, 0, true, OK},
		}},
		{"limit reached is critical at once", Rule{ExhaustWarning: time.Hour, ExhaustCritical: time.Minute}, 0, []step{
			{0, 10, 100, true, OK}, {1 * s, 100, 100, true, Critical}, {2 * s, 10, 100, true, Critical},
		}},
		{"limit reached during warm-up is critical at once", Rule{ExhaustCritical: time.Minute}, time.Hour, []step{
			{0, 10, 100, true, OK}, {1 * s, 100, 100, true, Critical},
		}},
		{"unread samples change nothing", Rule{Below: 1, BelowLevel: Warning}, 0, []step{
			{0, 0, 0, true, OK}, {5 * s, math.NaN(), 0, true, OK}, {10 * s, 0, 0, true, Warning},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := p
			if tt.warmup > 0 {
				q.Warmup = tt.warmup
			}
			d, err := New(q, tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range tt.steps {
				if got := d.Step(st.at, st.v, st.limit, st.flowing).Level; got != st.want {
					t.Fatalf("at %v (value %v): level %v, want %v", st.at, st.v, got, st.want)
				}
			}
		})
	}
}

// TestLimitImminent: steady growth that reaches the limit within a Window is critical at once
// (cause exhaustion), in warm-up too, well before the limit is reached; a fill that levels off
// under the limit is not (the 6 h forecast of the long trend may still warn about it while the
// fill is in its span).
func TestLimitImminent(t *testing.T) {
	rule := Rule{NoticePerMin: 5, WarningPerMin: 15, CriticalPerMin: 30, ExhaustWarning: 6 * time.Hour, ExhaustCritical: time.Hour}
	d, err := New(Params{}, rule) // Window and Warmup 5 min
	if err != nil {
		t.Fatal(err)
	}
	const limit = 1024
	var got Verdict
	at := time.Duration(0)
	for ; at < 20*time.Minute; at += 5 * time.Second {
		v := 20 + 120*at.Minutes() // at the limit after 8 m 22 s
		got = d.Step(at, min(v, limit), limit, true)
		if got.Level == Critical {
			break
		}
	}
	if got.Level != Critical || at > 6*time.Minute {
		t.Fatalf("120/min towards the limit: %v at %v, want critical before 6 min (the limit is reached at 8 m 22 s)", got.Level, at)
	}
	// slow (a notice by rate) but 100 from the limit: reached after 8 m 20 s
	d, err = New(Params{}, rule)
	if err != nil {
		t.Fatal(err)
	}
	for at = 0; at < 20*time.Minute; at += 5 * time.Second {
		got = d.Step(at, 900+12*at.Minutes(), limit-24, true)
		if got.Level == Critical {
			break
		}
	}
	if got.Level != Critical || got.Cause != CauseExhaustion || at > 6*time.Minute {
		t.Fatalf("12/min, 100 from the limit: %v (%v) at %v, want critical (exhaustion) before 6 min", got.Level, got.Cause, at)
	}
	d, err = New(Params{}, rule)
	if err != nil {
		t.Fatal(err)
	}
	for at := time.Duration(0); at < 30*time.Minute; at += 5 * time.Second {
		v := 20 + 600*(1-math.Exp(-at.Minutes()/1.5)) // fills to 620 of 1024, and stays
		if vd := d.Step(at, v, limit, true); vd.Level == Critical {
			t.Fatalf("fill under the limit: %+v at %v", vd, at)
		}
	}
}
