// Command replay runs a recorded trace through the leak detector and prints one JSON line per
// change of a series' level, as /work/shared/detection/score.py expects:
//
//	replay FILE.csv
//	{"t":1830,"series":"goroutines","level":"warning","rate_per_min":23.8,"cause":"growth"}
//
// Series without a rule (any column but goroutines and fds) are ignored; fd_limit, when
// present, is the FD limit for exhaustion forecasts.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/leakwatch/leakwatch/internal/trend"
)

type event struct {
	T           float64 `json:"t"`
	Series      string  `json:"series"`
	Level       string  `json:"level"`
	RatePerMin  float64 `json:"rate_per_min"`
	Cause       string  `json:"cause"`
	ExhaustionS float64 `json:"exhaustion_s,omitempty"`
	Baseline    float64 `json:"baseline"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: replay FILE.csv")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr, err := trend.ReadCSV(f)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	return trend.Replay(tr, trend.DefaultParams(), func(series string, t float64, v trend.Verdict) error {
		ev := event{T: t, Series: series, Level: v.Level.String(), RatePerMin: round1(v.RatePerMin),
			Cause: v.Cause.String(), Baseline: round1(v.Baseline)}
		if v.Exhaustion > 0 {
			ev.ExhaustionS = round1(v.Exhaustion.Seconds())
		}
		return enc.Encode(ev)
	})
}

func round1(x float64) float64 { return float64(int64(x*10+0.5*sign(x))) / 10 }

func sign(x float64) float64 {
	if x < 0 {
		return -1
	}
	return 1
}
