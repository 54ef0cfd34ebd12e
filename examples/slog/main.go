// Command slog is examples/basic for a service that logs with log/slog: the watchdog's alerts
// and their evidence come out as slog JSON records, and the program has no zap in its code. It
// samples every 200ms, judges growth over a 6s window, and with -leak leaks 20 goroutines a
// second, which it catches within seconds:
//
//	go run ./examples/slog -leak
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/leakwatch/leakwatch/watchdog"
)

func main() {
	leak := flag.Bool("leak", false, "leak 20 goroutines a second")
	run := flag.Duration("for", 20*time.Second, "how long to run (0: until interrupted)")
	flag.Parse()
	if err := realMain(os.Stdout, os.Stderr, *leak, *run); err != nil {
		fmt.Fprintln(os.Stderr, "slog:", err)
		os.Exit(1)
	}
}

// realMain runs the program: the log records go to logs as JSON lines, the summary to out.
func realMain(out, logs io.Writer, leak bool, run time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if run > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, run)
		defer cancel()
	}
	logger := slog.New(slog.NewJSONHandler(logs, nil))

	cfg := watchdog.DefaultConfig()
	cfg.Interval = 200 * time.Millisecond
	cfg.Window = 6 * time.Second
	cfg.Warmup = 2 * time.Second
	w, err := watchdog.Start(ctx, cfg, watchdog.WithSlog(logger))
	if err != nil {
		return err
	}
	defer w.Stop()

	block := make(chan struct{}) // the leaked goroutines wait on it until the program ends
	defer close(block)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// Stop first: it waits for the attribution, so nothing is logged after this.
			if err := w.Stop(); err != nil {
				return err
			}
			s := w.Snapshot()
			g, _ := s.Lookup(watchdog.SeriesGoroutines)
			fmt.Fprintf(out, "goroutines=%v rate=%.1f/min level=%v\n", g.Value, g.RatePerMin, g.Level)
			return nil
		case <-tick.C:
			if leak {
				go func() { <-block }()
			}
		}
	}
}
