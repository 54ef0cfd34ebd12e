package watchdog

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// FuzzConfigValidate: any configuration is either rejected with ErrInvalidConfig or starts and
// stops cleanly; Validate never panics, and Start agrees with it.
func FuzzConfigValidate(f *testing.F) {
	f.Add(int64(time.Second), int64(5*time.Minute), int64(5*time.Minute), 720, 10.0, 20.0, 50.0, int64(6*time.Hour), int64(time.Hour), 0.0, uint8(0))
	f.Add(int64(0), int64(0), int64(-1), 1, math.NaN(), 20.0, 20.0, int64(-1), int64(2*time.Hour), math.Inf(1), uint8(9))
	f.Add(int64(200*time.Millisecond), int64(600*time.Millisecond), int64(0), 2, 0.0, 0.0, 1.0, int64(0), int64(0), 0.8, uint8(1))
	f.Fuzz(func(t *testing.T, interval, window, warmup int64, history int, notice, warning, critical float64,
		exWarn, exCrit int64, below float64, belowLevel uint8) {
		c := DefaultConfig()
		c.Interval, c.Window, c.Warmup = time.Duration(interval), time.Duration(window), time.Duration(warmup)
		c.HistorySize = history % 100000 // memory: the fuzzer may not ask for gigabytes
		c.Rules["g"] = Rule{NoticePerMin: notice, WarningPerMin: warning, CriticalPerMin: critical,
			ExhaustWarning: time.Duration(exWarn), ExhaustCritical: time.Duration(exCrit),
			Below: below, BelowLevel: Level(belowLevel)}
		err := c.Validate()
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("Validate() = %v, not wrapping ErrInvalidConfig", err)
		}
		if c.Interval > 0 && c.Interval < time.Millisecond {
			return // valid but would spin the machine: Validate's verdict is what is checked
		}
		w, serr := Start(context.Background(), c, WithGauge("g", func() float64 { return 1 }))
		if (err == nil) != (serr == nil) {
			t.Fatalf("Validate() = %v but Start() = %v", err, serr)
		}
		if serr != nil {
			if !strings.HasPrefix(serr.Error(), "watchdog: invalid config: ") {
				t.Fatalf("Start error %q lacks the prefix", serr)
			}
			return
		}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzReplay: any input is either a parse error or replays without panicking, alerts in time
// order.
func FuzzReplay(f *testing.F) {
	f.Add("t,goroutines,fds,fd_limit\n0,94,23,1024\n10,99,22,1024\n")
	f.Add("t,goroutines\n0,1\n\n10,NaN\n20,\n")
	f.Add("t,fds,fd_limit,threads,threads_limit\n0,1,1,1,1\n1,2,1,2,1\n")
	f.Add("t\n")
	f.Add("x,y\n1,2\n")
	f.Add("t,goroutines\n5,1\n1,2\n")
	f.Fuzz(func(t *testing.T, in string) {
		var last time.Time
		err := Replay(strings.NewReader(in), DefaultConfig(), func(a Alert) {
			if a.Time.Before(last) {
				t.Fatalf("alert at %v after one at %v", a.Time, last)
			}
			last = a.Time
			if a.Level > LevelCritical || a.Series == "" {
				t.Fatalf("bad alert %+v", a)
			}
		})
		if err != nil && !strings.HasPrefix(err.Error(), "watchdog: replay: ") {
			t.Fatalf("Replay error %q lacks the prefix", err)
		}
	})
}
