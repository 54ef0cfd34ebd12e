package trend

import (
	"fmt"
	"math"
	"os"
	"testing"
	"time"
)

func TestZZDebug(t *testing.T) {
	f := os.Getenv("TR")
	if f == "" {
		t.Skip()
	}
	fh, _ := os.Open(f)
	tr, err := ReadCSV(fh)
	if err != nil {
		t.Fatal(err)
	}
	s := os.Getenv("SER")
	d, _ := New(DefaultParams(), DefaultRules()[s])
	vals, _ := tr.Column(s)
	lim, _ := tr.Column("fd_limit")
	for k, ts := range tr.T {
		l := math.NaN()
		if lim != nil {
			l = lim[k]
		}
		v := d.Step(time.Duration(ts*1e9), vals[k], l)
		fmt.Printf("%6.0f v=%5.0f rate=%6.1f lvl=%s base=%.0f floor=%.0f ex=%v %s\n", ts, vals[k], v.RatePerMin, v.Level, v.Baseline, v.Floor, v.Exhaustion.Round(time.Minute), v.Cause)
	}
}
