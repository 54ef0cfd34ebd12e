package watchdog

import (
	"math"
	"testing"
	"time"
)

func TestDurLabel(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Minute, "30min"},
		{2 * time.Minute, "2min"},
		{time.Hour, "60min"},
		{16 * time.Second, "16s"},
		{90 * time.Second, "1m30s"},
		{1500 * time.Millisecond, "1.5s"},
		{0, "0s"},
	} {
		if got := durLabel(tc.d); got != tc.want {
			t.Errorf("durLabel(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestCheckpointLine(t *testing.T) {
	base := SmokeSample{Goroutines: 95, FDs: 22, FDsAvailable: true}
	for _, tc := range []struct {
		name string
		cp   SmokeCheckpoint
		want string
	}{
		{"seed first", SmokeCheckpoint{Index: 1, Of: 15, Label: "2min", Elapsed: 2 * time.Minute,
			SmokeSample: SmokeSample{Goroutines: 98, FDs: 22, FDsAvailable: true}},
			"[1/15] 2min: GOR=98 (+3, 1.50/min) FD=22 (+0, 0.00/min)"},
		{"seed last", SmokeCheckpoint{Index: 15, Of: 15, Label: "30min", Elapsed: 30 * time.Minute,
			SmokeSample: SmokeSample{Goroutines: 101, FDs: 23, FDsAvailable: true}},
			"[15/15] 30min: GOR=101 (+6, 0.20/min) FD=23 (+1, 0.03/min)"},
		{"shrinking", SmokeCheckpoint{Index: 2, Of: 4, Label: "8s", Elapsed: 8 * time.Second,
			SmokeSample: SmokeSample{Goroutines: 92, FDs: 21, FDsAvailable: true}},
			"[2/4] 8s: GOR=92 (-3, -22.50/min) FD=21 (-1, -7.50/min)"},
		{"no fd probe", SmokeCheckpoint{Index: 1, Of: 1, Label: "1m30s", Elapsed: 90 * time.Second,
			SmokeSample: SmokeSample{Goroutines: 95}},
			"[1/1] 1m30s: GOR=95 (+0, 0.00/min) FD=n/a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := tc.cp
			cp.derive(base)
			if got := cp.line(); got != tc.want {
				t.Errorf("line() = %q, want %q", got, tc.want)
			}
		})
	}
	if got := rate(-0.001); got != "0.00" {
		t.Errorf("rate(-0.001) = %q, want 0.00 (no negative zero)", got)
	}
	if got := count(math.NaN(), false); got != "n/a" {
		t.Errorf("count(NaN, false) = %q", got)
	}
}
