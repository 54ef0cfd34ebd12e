package trend

import (
	"math"
	"testing"
	"time"
)

func TestLevelString(t *testing.T) {
	for _, tc := range []struct {
		l    Level
		want string
	}{{OK, "ok"}, {Notice, "notice"}, {Warning, "warning"}, {Critical, "critical"}, {Level(9), "level(9)"}} {
		if got := tc.l.String(); got != tc.want {
			t.Errorf("Level(%d).String() = %q, want %q", tc.l, got, tc.want)
		}
	}
}

func TestCauseString(t *testing.T) {
	for _, tc := range []struct {
		c    Cause
		want string
	}{
		{CauseNone, "none"}, {CauseWarmup, "warmup"}, {CauseGrowth, "growth"}, {CauseStaircase, "staircase"},
		{CauseExhaustion, "exhaustion"}, {CauseLimit, "limit_reached"}, {CauseRecovered, "recovered"}, {Cause(42), "cause(42)"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("Cause(%d).String() = %q, want %q", tc.c, got, tc.want)
		}
	}
}

// TestLoweredLevelNamesItsRule: a series critical under its floor that comes back over it,
// while a warning rule (an increase) holds, is lowered to warning with the increase as its
// cause, not the floor it has left nor a bare "recovered".
func TestLoweredLevelNamesItsRule(t *testing.T) {
	d, err := New(Params{Window: 30 * time.Second, Warmup: 10 * time.Second}, Rule{OnIncrease: Warning, Below: 1, BelowLevel: Critical})
	if err != nil {
		t.Fatal(err)
	}
	value := func(s int) float64 {
		switch {
		case s < 15:
			return 5
		case s < 40:
			return 0 // under the floor: critical
		}
		return float64(s) // increasing: warning
	}
	var changes []Verdict
	for s := 0; s < 120; s++ {
		if v := d.Step(time.Duration(s)*time.Second, value(s), math.NaN(), true); v.Changed {
			changes = append(changes, v)
		}
	}
	var crit bool
	for _, v := range changes {
		if v.Level == Critical {
			crit = true
			if v.Cause != CauseBelow {
				t.Errorf("critical with cause %v, want %v", v.Cause, CauseBelow)
			}
		}
		if crit && v.Level == Warning {
			if v.Cause != CauseIncrease {
				t.Errorf("lowered to warning with cause %v, want %v (the rule that holds it)", v.Cause, CauseIncrease)
			}
			return
		}
	}
	t.Fatalf("changes %+v: want critical, then warning", changes)
}
