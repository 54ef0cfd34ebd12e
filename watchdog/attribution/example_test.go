package attribution_test

import (
	"fmt"
	"log"
	"os"

	"github.com/leakwatch/leakwatch/watchdog"
	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

// The watchdog's use: a baseline after warm-up, a snapshot on an alert,
// the diff and a diagnosis in the alert. (No output check: what it finds
// depends on the process it runs in.)
func Example() {
	opts := attribution.DefaultOptions()
	base, err := attribution.Take(opts)
	if err != nil {
		log.Fatal(err)
	}
	// ... the service runs; an alert fires ...
	opts.LeakProfile = attribution.LeakProfileAvailable() // first alert of the episode
	cur, err := attribution.Take(opts)
	if err != nil {
		log.Fatal(err)
	}
	r := attribution.Diff(base, cur)
	d := attribution.Diagnose(r, attribution.Context{
		Series: []attribution.SeriesRate{{Name: "goroutines", Level: watchdog.LevelWarning, PerMinute: 24}},
	})
	_ = r.WriteText(os.Stderr) // Markdown, for the log or the alert
	fmt.Println(d)
}

func ExampleDiagnose() {
	r := &attribution.Report{
		Groups: []attribution.GroupDelta{{
			Group: attribution.Group{
				Count: 120,
				Wait:  attribution.WaitChanSend,
				Top:   attribution.Frame{Function: "main.(*Shipper).publish", File: "shipper.go", Line: 88},
			},
			Base:  2,
			Delta: 118,
		}},
	}
	d := attribution.Diagnose(r, attribution.Context{
		Series: []attribution.SeriesRate{{Name: "goroutines", Level: watchdog.LevelCritical, PerMinute: 59}},
	})
	fmt.Println(d.Cause)
	fmt.Println(d)
	// Output:
	// blocked_channel_send
	// 120 goroutines (+118) blocked sending on a channel nobody receives from, in main.(*Shipper).publish (shipper.go:88)
	//   - series goroutines at critical: +59.0/min
	//   - 120 goroutines (+118) chan send in main.(*Shipper).publish (shipper.go:88)
	//   - no goroutineleak profile: the leak is inferred from growth, not proven
}

func ExampleDumper() {
	dir, err := os.MkdirTemp("", "leakwatch-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := attribution.Take(attribution.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	d := &attribution.Dumper{Dir: dir, MaxFiles: 30, MaxBytes: 16 << 20}
	paths, err := d.Dump(s, attribution.Diff(nil, s))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(paths) >= 2)
	// Output: true
}
