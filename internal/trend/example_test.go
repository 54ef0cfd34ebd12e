package trend_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/trend"
)

// A goroutine count that is flat for 20 minutes, then leaks 30 goroutines a minute.
func Example() {
	d, err := trend.New(trend.DefaultParams(), trend.Rule{NoticePerMin: 10, WarningPerMin: 20, CriticalPerMin: 50})
	if err != nil {
		panic(err)
	}
	for s := 0; s <= 40*60; s += 10 {
		t := time.Duration(s) * time.Second
		v := 100.0 + float64(s%30)/10 // a little noise
		if t > 20*time.Minute {
			v += (t - 20*time.Minute).Minutes() * 30
		}
		if vd := d.Step(t, v, 0, true); vd.Changed {
			fmt.Printf("%v %s %s %.0f/min\n", t, vd.Level, vd.Cause, vd.RatePerMin)
		}
	}
	// Output:
	// 23m20s notice growth 25/min
	// 24m20s warning growth 30/min
}

// A recorded trace: one column per series, "t" in seconds; an empty cell is NaN.
func ExampleReadCSV() {
	tr, err := trend.ReadCSV(strings.NewReader("t,goroutines,fds\n0,94,23\n10,99,\n20,101,24\n"))
	if err != nil {
		panic(err)
	}
	fmt.Println(tr.T, tr.Columns)
	fmt.Println(tr.Values[0], tr.Values[1])
	// Output:
	// [0 10 20] [goroutines fds]
	// [94 99 101] [23 NaN 24]
}
