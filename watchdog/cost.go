package watchdog

import "time"

// Cost is what the watchdog's own ticks cost, in wall time on the sampling goroutine.
type Cost struct {
	// Ticks counted.
	Ticks uint64 `json:"ticks"`
	// Last, Mean and Max tick duration.
	Last time.Duration `json:"last_ns"`
	Mean time.Duration `json:"mean_ns"`
	Max  time.Duration `json:"max_ns"`
	// Total time spent in ticks since Start.
	Total time.Duration `json:"total_ns"`
}

func (c *Cost) add(d time.Duration) {
	c.Ticks++
	c.Last = d
	c.Total += d
	c.Mean = c.Total / time.Duration(c.Ticks)
	if d > c.Max {
		c.Max = d
	}
}
