package watchdog

import (
	"encoding/json"
	"time"
)

// Cost is what the watchdog's own ticks cost, in wall time on the sampling goroutine. Its JSON
// carries the durations in seconds: ticks, last_s, mean_s, max_s, total_s.
type Cost struct {
	// Ticks counted.
	Ticks uint64
	// Last, Mean and Max tick duration.
	Last time.Duration
	Mean time.Duration
	Max  time.Duration
	// Total time spent in ticks since Start.
	Total time.Duration
}

type costJSON struct {
	Ticks uint64  `json:"ticks"`
	Last  float64 `json:"last_s"`
	Mean  float64 `json:"mean_s"`
	Max   float64 `json:"max_s"`
	Total float64 `json:"total_s"`
}

// MarshalJSON encodes the cost with its durations in seconds.
func (c Cost) MarshalJSON() ([]byte, error) {
	return json.Marshal(costJSON{c.Ticks, c.Last.Seconds(), c.Mean.Seconds(), c.Max.Seconds(), c.Total.Seconds()})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (c *Cost) UnmarshalJSON(b []byte) error {
	var x costJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*c = Cost{x.Ticks, fromSeconds(x.Last), fromSeconds(x.Mean), fromSeconds(x.Max), fromSeconds(x.Total)}
	return nil
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
