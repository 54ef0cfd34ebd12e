package watchdog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestReplayMatchesLive records a live run with a leak that starts and stops, replays the
// recording, and requires the very same alerts at the very same times.
func TestReplayMatchesLive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.csv")
	c := fastConfig()
	c.Warmup = time.Second
	c.Attribution.Disabled = true
	c.Record.Path = path
	c.Rules["streams"] = Rule{NoticePerMin: 100, WarningPerMin: 300, CriticalPerMin: 2000}
	c.Rules["errs"] = Rule{OnIncrease: LevelWarning}
	var live []Alert
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var streams, errs atomic.Int64
		w, err := Start(t.Context(), c,
			WithGauge("streams", func() float64 { return float64(streams.Load()) }),
			WithGauge("errs", func() float64 { return float64(errs.Load()) }),
			OnAlert(func(a Alert) { mu.Lock(); live = append(live, a); mu.Unlock() }))
		if err != nil {
			t.Fatal(err)
		}
		var files []*os.File
		defer func() {
			for _, f := range files {
				f.Close()
			}
		}()
		for i := range 300 {
			if i >= 50 && i < 150 {
				streams.Add(1) // 600/min for 10 s
				if runtime.GOOS == "linux" {
					f, err := os.Open(os.DevNull) // and fds at 600/min: judged against fd_limit, read every 5 s
					if err != nil {
						t.Fatal(err)
					}
					files = append(files, f)
				}
			}
			if i == 200 {
				errs.Add(1)
			}
			time.Sleep(c.Interval)
		}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
	})
	var want []Alert
	for _, a := range live {
		if a.Series == "streams" || a.Series == "errs" || a.Series == SeriesFDs {
			want = append(want, a)
		}
	}
	if len(want) < 3 {
		t.Fatalf("live run raised too few alerts to compare: %v", want)
	}
	if runtime.GOOS == "linux" && !slices.ContainsFunc(want, func(a Alert) bool { return a.Series == SeriesFDs }) {
		t.Fatalf("live run raised no fds alert to compare: %v", want)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []Alert
	if err := Replay(f, c, func(a Alert) {
		if a.Series == "streams" || a.Series == "errs" || a.Series == SeriesFDs {
			got = append(got, a)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("replay gave %d alerts, live %d:\nreplay %v\nlive   %v", len(got), len(want), got, want)
	}
	t0 := want[0].Time.Add(-got[0].Time.Sub(time.Unix(0, 0))) // the live origin
	for i := range want {
		g, w := got[i], want[i]
		if g.Series != w.Series || g.Level != w.Level || g.Previous != w.Previous || g.Cause != w.Cause ||
			g.Time.Sub(time.Unix(0, 0)) != w.Time.Sub(t0) || g.RatePerMin != w.RatePerMin || g.Reason != w.Reason {
			t.Errorf("alert %d: replay %+v\nlive %+v", i, g, w)
		}
	}
}

func TestReplayBadInput(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no header", "", ""},
		{"bad header", "x,goroutines\n1,2\n", "header"},
		{"bad number", "t,goroutines\n0,1\n10,abc\n", "line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Replay(strings.NewReader(tt.in), DefaultConfig(), func(Alert) {})
			if tt.want == "" {
				return // an empty trace is no error, and no alert
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Replay() = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	c := DefaultConfig()
	c.Interval = -time.Second
	if err := Replay(strings.NewReader("t,fds\n"), c, func(Alert) {}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Replay with a bad config = %v", err)
	}
}

// TestReplayStarvedPoolOneEpisode replays an hour of steady requests through a starved pool
// (idle 0, except one sample at 1 every 200 s) with HTTPRules("docker"): the floor rule shares
// the detector's hysteresis, so the lone idle sample does not resolve the warning, and the
// hour is one warning episode, not a warning, ok, warning... series.
func TestReplayStarvedPoolOneEpisode(t *testing.T) {
	req, idle := HTTPSeries("docker", HTTPRequests), HTTPSeries("docker", HTTPIdle)
	var b strings.Builder
	fmt.Fprintf(&b, "t,%s,%s\n", req, idle)
	for s := 0; s <= 3600; s++ {
		id := 0
		if s > 0 && s%200 == 0 {
			id = 1
		}
		fmt.Fprintf(&b, "%d,%d,%d\n", s, 10*s, id)
	}
	c := DefaultConfig()
	c.Rules = HTTPRules("docker")
	var got []Alert
	if err := Replay(strings.NewReader(b.String()), c, func(a Alert) {
		if a.Series == idle {
			got = append(got, a)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Level != LevelWarning || got[0].Cause != CauseBelow {
		t.Fatalf("alerts on %s: %v, want one warning (cause below)", idle, got)
	}
	// raised after the warm-up and Confirm, not before
	if at := got[0].Time.Sub(time.Unix(0, 0)); at < c.Warmup || at > c.Warmup+c.Window {
		t.Errorf("warning at %v, want after the warm-up (%v) and within a window of it", at, c.Warmup)
	}
}

// TestReplayNoWarmup: with Warmup NoWarmup, a leak present from the first sample is graded on
// the window estimate from that sample on: the same levels as with a warm-up shorter than one
// Interval (which still leaves the first sample out), no later, and sooner than with the
// default warm-up.
func TestReplayNoWarmup(t *testing.T) {
	var b strings.Builder
	b.WriteString("t,goroutines\n")
	for s := 0; s <= 1200; s++ {
		fmt.Fprintf(&b, "%d,%d\n", s, 100+s*30/60) // 30/min from the start: warning
	}
	alerts := func(warmup time.Duration) []Alert {
		c := DefaultConfig()
		c.Warmup = warmup
		var got []Alert
		if err := Replay(strings.NewReader(b.String()), c, func(a Alert) { got = append(got, a) }); err != nil {
			t.Fatalf("Warmup %v: %v", warmup, err)
		}
		return got
	}
	level := func(a, b Alert) bool { return a.Level == b.Level }
	none, tiny, def := alerts(NoWarmup), alerts(time.Nanosecond), alerts(0)
	if len(none) == 0 || !slices.EqualFunc(none, tiny, level) || !slices.EqualFunc(none, def, level) {
		t.Fatalf("alerts with NoWarmup %v, with a 1ns warm-up %v, with the default %v: want the same levels, at least one", none, tiny, def)
	}
	if at, tinyAt, defAt := none[0].Time, tiny[0].Time, def[0].Time; at.After(tinyAt) || !at.Before(defAt) {
		t.Errorf("first alert with NoWarmup at %v, with a 1ns warm-up at %v, with the default at %v: want no later than the first and before the last",
			at.Sub(time.Unix(0, 0)), tinyAt.Sub(time.Unix(0, 0)), defAt.Sub(time.Unix(0, 0)))
	}
}

// TestReplayLoweredReason: a series critical under its floor that comes back over it while an
// increase holds a warning is lowered to warning with the increase as cause and reason, not
// "below" a floor it is above.
func TestReplayLoweredReason(t *testing.T) {
	var b strings.Builder
	b.WriteString("t,a\n")
	for s := 0; s < 120; s++ {
		v := 5
		switch {
		case s >= 15 && s < 40:
			v = 0
		case s >= 40:
			v = s
		}
		fmt.Fprintf(&b, "%d,%d\n", s, v)
	}
	c := DefaultConfig()
	c.Window, c.Warmup = 30*time.Second, 10*time.Second
	c.Rules = map[string]Rule{"a": {OnIncrease: LevelWarning, Below: 1, BelowLevel: LevelCritical}}
	var got []Alert
	if err := Replay(strings.NewReader(b.String()), c, func(a Alert) { got = append(got, a) }); err != nil {
		t.Fatal(err)
	}
	for i, a := range got {
		if a.Level == LevelWarning && i > 0 && a.Previous == LevelCritical {
			if a.Cause != CauseIncrease || strings.Contains(a.Reason, "below") {
				t.Errorf("lowered to warning: cause %v, reason %q; want the increase", a.Cause, a.Reason)
			}
			return
		}
	}
	t.Fatalf("alerts %v: want critical, then warning", got)
}
