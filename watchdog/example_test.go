package watchdog_test

import (
	"context"
	"fmt"
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
