package trend

import "testing"

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
