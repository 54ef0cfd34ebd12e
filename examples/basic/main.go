// Command basic is the shortest program that embeds the watchdog: it samples the process every
// 200ms, judges growth over a 6s window, and logs every alert. Run it with -leak to watch it
// catch a goroutine leak within seconds:
//
//	go run ./examples/basic -leak
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/leakwatch/leakwatch/watchdog"
)

func main() {
	leak := flag.Bool("leak", false, "leak 20 goroutines a second")
	run := flag.Duration("for", 20*time.Second, "how long to run (0: until interrupted)")
	flag.Parse()
	if err := realMain(os.Stdout, *leak, *run); err != nil {
		fmt.Fprintln(os.Stderr, "basic:", err)
		os.Exit(1)
	}
}

func realMain(out io.Writer, leak bool, run time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if run > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, run)
		defer cancel()
	}
	logger, err := zap.NewDevelopment()
	if err != nil {
		return err
	}
	defer logger.Sync()

	cfg := watchdog.DefaultConfig()
	cfg.Interval = 200 * time.Millisecond
	cfg.Window = 6 * time.Second
	cfg.Warmup = 2 * time.Second
	w, err := watchdog.Start(ctx, cfg, watchdog.WithLogger(logger),
		watchdog.OnAlert(func(a watchdog.Alert) { fmt.Fprintln(out, "ALERT", a) }))
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
			// Stop first: it waits for the alert handler, so nothing writes to out after this.
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
