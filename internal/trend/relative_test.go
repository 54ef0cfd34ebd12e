package trend

import (
	"math"
	"strings"
	"testing"
	"time"
)

const mib = 1 << 20

// TestRuleAt: a level's relative threshold, pct of max(v, PctOf) per hour, replaces the
// per-minute one where it is lower or where that is unset; a rule without percentages is
// unchanged.
func TestRuleAt(t *testing.T) {
	r := Rule{NoticePerMin: 1 * mib, WarningPerMin: 2 * mib, NoticePctPerHour: 5, WarningPctPerHour: 10, PctOf: 288 * mib}
	for _, c := range []struct {
		v              float64
		notice, warner float64
	}{
		{32 * mib, 0.24 * mib, 0.48 * mib},   // under PctOf: of 288 MiB
		{math.NaN(), 0.24 * mib, 0.48 * mib}, // no value: of PctOf
		{600 * mib, 0.5 * mib, 1 * mib},      // 10 %/h of 600 MiB is 1 MiB/min
		{4096 * mib, 1 * mib, 2 * mib},       // large: the per-minute ones are lower
		{1200 * mib, 1 * mib, 2 * mib},       // 10 %/h of 1200 MiB is exactly 2 MiB/min
	} {
		got := r.At(c.v)
		if math.Abs(got.NoticePerMin-c.notice) > 1 || math.Abs(got.WarningPerMin-c.warner) > 1 || got.CriticalPerMin != 0 {
			t.Errorf("At(%.0f MiB): notice %.3f, warning %.3f, critical %g MiB/min; want %.3f, %.3f, 0",
				c.v/mib, got.NoticePerMin/mib, got.WarningPerMin/mib, got.CriticalPerMin/mib, c.notice/mib, c.warner/mib)
		}
	}
	if got := (Rule{WarningPctPerHour: 60}).At(100); got.WarningPerMin != 1 {
		t.Errorf("relative only: warning %g/min, want 1", got.WarningPerMin)
	}
	plain := Rule{WarningPerMin: 3}
	if plain.At(1e9) != plain {
		t.Errorf("a rule without percentages changed")
	}
	if err := (Rule{WarningPctPerHour: 10, NoticePctPerHour: 20, PctOf: -1, PctAfter: -time.Second}).Validate(); err == nil ||
		!strings.Contains(err.Error(), "NoticePctPerHour (20) must be below WarningPctPerHour (10)") ||
		!strings.Contains(err.Error(), "PctOf must be >= 0") || !strings.Contains(err.Error(), "PctAfter must be >= 0") {
		t.Errorf("Validate: %v", err)
	}
}

// TestRelativeSlowLeak: a slow leak (0.5 MiB/min on 32 MiB) is under the per-minute
// thresholds and is warned by the percentages, once they grade (PctAfter); a flat series is
// not. Without the percentages the same leak stays ok.
func TestRelativeSlowLeak(t *testing.T) {
	p := Params{Window: 20 * time.Minute, Warmup: 6 * time.Minute, Confirm: 75 * time.Second, QuietWarmup: true}
	rel := Rule{NoticePerMin: 1 * mib, WarningPerMin: 2 * mib, NoticePctPerHour: 5, WarningPctPerHour: 10, PctOf: 288 * mib, PctAfter: 40 * time.Minute}
	abs := Rule{NoticePerMin: 1 * mib, WarningPerMin: 2 * mib}
	run := func(r Rule, perMin float64) (Level, time.Duration) {
		d, err := New(p, r)
		if err != nil {
			t.Fatal(err)
		}
		var first time.Duration
		top := OK
		for k := 0; k < 2*360; k++ { // 2 h, every 10 s
			at := time.Duration(k) * 10 * time.Second
			// readings in steps (a collection every 2 minutes) with ±1 MiB of jitter
			gc := at / (2 * time.Minute) * (2 * time.Minute)
			v := 32*mib + perMin*gc.Minutes() + float64((int(gc/time.Minute)*7919)%3-1)*mib
			if l := d.Step(at, v, 0, true).Level; l > top {
				top, first = l, at
			}
		}
		return top, first
	}
	if l, at := run(rel, 0.5*mib); l != Warning || at < 40*time.Minute {
		t.Errorf("slow leak, relative rule: %v at %v, want warning after 40 min", l, at)
	}
	if l, at := run(abs, 0.5*mib); l != OK {
		t.Errorf("slow leak, per-minute rule only: %v at %v, want ok", l, at)
	}
	if l, at := run(rel, 0); l != OK {
		t.Errorf("flat: %v at %v, want ok", l, at)
	}
}

// TestQuietWarmup: a fill during warm-up (40 MiB/min for 4 minutes, then flat) is raised by
// the fast rule without QuietWarmup, and nothing is raised with it.
func TestQuietWarmup(t *testing.T) {
	r := Rule{NoticePerMin: 1 * mib, WarningPerMin: 2 * mib}
	for _, quiet := range []bool{false, true} {
		d, err := New(Params{Window: 20 * time.Minute, Warmup: 6 * time.Minute, QuietWarmup: quiet}, r)
		if err != nil {
			t.Fatal(err)
		}
		top := OK
		for k := 0; k < 6*60; k++ { // the warm-up, every second
			at := time.Duration(k) * time.Second
			v := 32*mib + 40*mib*min(at.Minutes(), 4)
			top = max(top, d.Step(at, v, 0, true).Level)
		}
		if want := map[bool]Level{false: Warning, true: OK}[quiet]; top != want {
			t.Errorf("QuietWarmup %v: %v during the warm-up, want %v", quiet, top, want)
		}
	}
}
