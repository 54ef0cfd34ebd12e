package watchdog

import (
	"math"
	"time"
)

// history keeps the last n samples of every series in one ring allocated at Start: memory is
// n x (series+1) x 8 bytes whatever the uptime. Not safe for concurrent use: the watchdog
// guards it with its mutex.
type history struct {
	n, width int
	times    []int64   // unix nanoseconds, n entries
	vals     []float64 // n x width
	next     int       // slot of the next write
	full     bool
}

func newHistory(n, width int) *history {
	return &history{n: n, width: width, times: make([]int64, n), vals: make([]float64, n*width)}
}

func (h *history) add(t time.Time, v []float64) {
	h.times[h.next] = t.UnixNano()
	copy(h.vals[h.next*h.width:(h.next+1)*h.width], v)
	h.next++
	if h.next == h.n {
		h.next, h.full = 0, true
	}
}

func (h *history) len() int {
	if h.full {
		return h.n
	}
	return h.next
}

// Point is one sample of one series.
type Point struct {
	// Time of the sample.
	Time time.Time `json:"t"`
	// Value of the series. Samples that could not be read are left out.
	Value float64 `json:"v"`
}

// series returns series i's samples, oldest first, skipping those that could not be read.
func (h *history) series(i int) []Point {
	n := h.len()
	out := make([]Point, 0, n)
	start := 0
	if h.full {
		start = h.next
	}
	for k := 0; k < n; k++ {
		j := (start + k) % h.n
		v := h.vals[j*h.width+i]
		if math.IsNaN(v) {
			continue
		}
		out = append(out, Point{Time: time.Unix(0, h.times[j]), Value: v})
	}
	return out
}

// at returns the newest sample of series i taken at or before t, and whether there is one.
func (h *history) at(i int, t time.Time) (Point, bool) {
	n := h.len()
	tn := t.UnixNano()
	for k := 1; k <= n; k++ {
		j := (h.next - k + h.n) % h.n
		if h.times[j] <= tn {
			v := h.vals[j*h.width+i]
			if !math.IsNaN(v) {
				return Point{Time: time.Unix(0, h.times[j]), Value: v}, true
			}
		}
	}
	return Point{}, false
}

// oldest returns the oldest kept sample of series i.
func (h *history) oldest(i int) (Point, bool) {
	n := h.len()
	start := 0
	if h.full {
		start = h.next
	}
	for k := 0; k < n; k++ {
		j := (start + k) % h.n
		if v := h.vals[j*h.width+i]; !math.IsNaN(v) {
			return Point{Time: time.Unix(0, h.times[j]), Value: v}, true
		}
	}
	return Point{}, false
}
