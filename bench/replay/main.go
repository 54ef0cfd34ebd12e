// Command replay runs a recorded trace through the watchdog's detector, with the library's
// default configuration, and prints one JSON line per change of a series' level, as the
// detection scorer (shared/detection/score.py) expects:
//
//	go run ./bench/replay FILE.csv
//	{"t":1830,"series":"goroutines","level":"warning","rate_per_min":23.8,"cause":"growth",...}
//
// It calls [watchdog.Replay], the very engine a live watchdog runs, so a recording made with
// Config.Record reproduces the live verdicts. Columns without a rule are ignored; fd_limit is
// the FD limit for exhaustion forecasts.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/leakwatch/leakwatch/watchdog"
)

type event struct {
	T           float64 `json:"t"`
	Series      string  `json:"series"`
	Level       string  `json:"level"`
	RatePerMin  float64 `json:"rate_per_min"`
	Cause       string  `json:"cause"`
	ExhaustionS float64 `json:"exhaustion_s,omitempty"`
	Baseline    float64 `json:"baseline"`
	Reason      string  `json:"reason"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: replay FILE.csv")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
	defer f.Close()
	if err := run(f, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	var encErr error
	err := watchdog.Replay(in, watchdog.DefaultConfig(), func(a watchdog.Alert) {
		ev := event{
			T: float64(a.Time.UnixNano()) / 1e9, Series: a.Series, Level: a.Level.String(),
			RatePerMin: round1(a.RatePerMin), Cause: a.Cause.String(), Baseline: round1(a.Baseline), Reason: a.Reason,
		}
		if a.TimeToExhaustion > 0 {
			ev.ExhaustionS = round1(a.TimeToExhaustion.Seconds())
		}
		if encErr == nil {
			encErr = enc.Encode(ev)
		}
	})
	if err != nil {
		return err
	}
	if encErr != nil {
		return encErr
	}
	return w.Flush()
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
