package watchdog_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/watchdog"
)

func ExampleStart() {
	w, err := watchdog.Start(context.Background(), watchdog.DefaultConfig(),
		watchdog.OnAlert(func(a watchdog.Alert) { fmt.Println("alert:", a) }))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	s := w.Snapshot()
	g, _ := s.Lookup(watchdog.SeriesGoroutines)
	fmt.Println("series:", len(s.Series) > 0, "level:", g.Level)
	// Output: series: true level: ok
}

func ExampleStart_badConfig() {
	cfg := watchdog.DefaultConfig()
	cfg.Interval = -time.Second
	cfg.Rules[watchdog.SeriesGoroutines] = watchdog.Rule{WarningPerMin: 50, CriticalPerMin: 20}
	_, err := watchdog.Start(context.Background(), cfg)
	fmt.Println(err)
	// Output: watchdog: invalid config: Interval must be in (0, 1h0m0s] (got -1s); Rules["goroutines"]: WarningPerMin (50) must be below CriticalPerMin (20)
}

// A trace of an hour: goroutines flat at 100 for 20 minutes, then leaking 30/min. Replay runs
// it through the same engine as a live watchdog and prints the level changes.
func ExampleReplay() {
	var b strings.Builder
	b.WriteString("t,goroutines,fds,fd_limit\n")
	for t := 0; t <= 3600; t += 10 {
		g := 100
		if t > 1200 {
			g += (t - 1200) / 2 // 30/min
		}
		fmt.Fprintf(&b, "%d,%d,20,1024\n", t, g)
	}
	err := watchdog.Replay(strings.NewReader(b.String()), watchdog.DefaultConfig(), func(a watchdog.Alert) {
		fmt.Printf("%4.0fs %s %s -> %s (%s)\n", float64(a.Time.UnixNano())/1e9, a.Series, a.Previous, a.Level, a.Cause)
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 1400s goroutines ok -> notice (growth)
	// 1460s goroutines notice -> warning (growth)
}

// A service that logs with log/slog hands its logger to the watchdog: alerts, their evidence
// and the watchdog's own notes arrive as slog records, with no zap in the service's code.
func ExampleWithSlog() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	w, err := watchdog.Start(ctx, watchdog.DefaultConfig(), watchdog.WithSlog(logger))
	if err != nil {
		logger.Error("watchdog", "error", err)
		return
	}
	defer w.Stop()
	// ... the service. A goroutine leak of 20/min then logs, at slog.LevelWarn:
	// {"time":"...","level":"WARN","msg":"alert","logger":"watchdog","series":"goroutines",
	//  "alert_level":"warning","previous_level":"ok","cause":"growth",...,"rate_per_min":20.4,
	//  "window_s":300,"reason":"goroutines growing 20.40/min over 5m0s ..."}
	// and, once attributed, the same record as "attribution" with an "evidence" group.
}

// An alert handed to slog by a handler logs whole, as a group with the fields of the
// watchdog's own records.
func ExampleAlert_LogValue() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // a fixed output for the example
			}
			return a
		},
	}))
	a := watchdog.Alert{
		Series: "fds", Level: watchdog.LevelWarning, Cause: watchdog.CauseGrowth,
		Value: 140, Baseline: 40, RatePerMin: 16.5, Window: 5 * time.Minute,
		Reason: "fds growing 16.50/min over 5m0s (warning at >= 15/min)",
	}
	logger.Warn("leak suspected", "alert", a)
	// Output:
	// level=WARN msg="leak suspected" alert.series=fds alert.alert_level=warning alert.previous_level=ok alert.cause=growth alert.value=140 alert.baseline=40 alert.rate_per_min=16.5 alert.window_s=300 alert.reason="fds growing 16.50/min over 5m0s (warning at >= 15/min)"
}
