package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

const (
	mib      = 1 << 20
	duration = 7200.0 // seconds
	step     = 10.0   // seconds between samples
)

// seriesLabel is a leaking series' entry of NAME.labels.json, as in the shared corpus; a
// clean series' entry is {"leak": false}.
type seriesLabel struct {
	Leak        bool     `json:"leak"`
	StartS      float64  `json:"start_s"`
	StopS       *float64 `json:"stop_s"`
	RatePerMin  float64  `json:"rate_per_min"`
	Expect      string   `json:"expect"`
	ExpectFromS float64  `json:"expect_from_s"`
	ExpectMax   string   `json:"expect_max"`
}

type labels struct {
	Note      string         `json:"note"`
	DurationS float64        `json:"duration_s"`
	StepS     float64        `json:"step_s"`
	Series    map[string]any `json:"series"`
}

// trace is one trace of the corpus: the process's true live heap over time, and how it
// allocates.
type trace struct {
	name string
	note string
	seed uint64
	// live is the heap that stays reachable at time t (seconds), in bytes: what the program
	// holds, leak included, without requests in flight.
	live func(t float64) float64
	// allocPerS is the allocation rate in bytes per second; it sets the collections' spacing.
	allocPerS float64
	// inFlight is the most that requests in flight add to a reading, in bytes.
	inFlight float64
	// leak describes the leak; nil for a clean trace.
	leak *seriesLabel
}

// rng gives uniform float64s from a PCG stream, by integer arithmetic only, so that every
// platform draws the same numbers.
type rng struct{ p *rand.PCG }

func (r rng) float() float64 { return float64(r.p.Uint64()>>11) / (1 << 53) }

// render writes the trace's CSV.
func (tr trace) render() []byte {
	r := rng{rand.NewPCG(tr.seed, 0x9e3779b97f4a7c15)}
	var b bytes.Buffer
	b.WriteString("t,heap_live_bytes\n")
	// The collector: at each collection the reading is the live heap plus what was in flight
	// and what was allocated while marking (about 0.1-0.4 s of allocation).
	reading := func(t float64) float64 {
		return tr.live(t) + float64(r.float()*tr.inFlight) + float64(tr.allocPerS*float64(0.1+0.3*r.float()))
	}
	nextGC, last := 0.0, 0.0
	for i := 0; float64(i)*step <= duration; i++ {
		t := float64(i) * step
		if i > 0 {
			t = float64(t + float64(0.6*r.float()-0.3))
		}
		for nextGC <= t {
			last = reading(nextGC)
			// The next collection starts when as much again as is live has been allocated.
			nextGC = float64(nextGC + float64(last/tr.allocPerS))
		}
		if i > 0 && r.float() < 0.01 {
			continue // a missing sample
		}
		fmt.Fprintf(&b, "%.3f,%d\n", t, int64(math.Round(last/1024))*1024)
	}
	return b.Bytes()
}

func (tr trace) labels() ([]byte, error) {
	var s any = map[string]bool{"leak": false}
	if tr.leak != nil {
		s = tr.leak
	}
	l := labels{Note: tr.note, DurationS: duration, StepS: step, Series: map[string]any{"heap_live_bytes": s}}
	b, err := json.MarshalIndent(l, "", " ")
	return append(b, '\n'), err
}

// fill is a start-up or refill curve: 0 at t0, rising to size with time constant tau (s).
func fill(t, t0, size, tau float64) float64 {
	if t < t0 {
		return 0
	}
	return float64(size * float64(1-math.Exp(-(t-t0)/tau)))
}

// steadyLeak is a leak of perMin bytes a minute from start (s).
func steadyLeak(t, start, perMin float64) float64 {
	if t < start {
		return 0
	}
	return float64(perMin * float64((t-start)/60))
}

// corpus is every heap trace. Rates in the labels are the true live heap's, in bytes per
// minute, over the leak's life.
func corpus() []trace {
	leak := func(start, perMin float64) *seriesLabel {
		return &seriesLabel{Leak: true, StartS: start, RatePerMin: perMin,
			Expect: "warning", ExpectFromS: start, ExpectMax: "warning"}
	}
	return []trace{
		{
			name: "clean-heap-gc", seed: 1,
			note:      "a flat 48 MiB service allocating 2 MiB/s: collections every ~25 s, readings jitter with requests in flight (up to 6 MiB)",
			live:      func(t float64) float64 { return 48 * mib },
			allocPerS: 2 * mib, inFlight: 6 * mib,
		},
		{
			name: "clean-heap-sawtooth", seed: 2,
			note: "a batch buffer that grows 3 MiB/min for 8 minutes, then is flushed, every 10 minutes, on a 64 MiB base",
			live: func(t float64) float64 {
				ph := math.Mod(t, 600)
				return float64(64*mib + float64(3*mib*float64(min(ph, 480)/60))*b2f(ph < 480))
			},
			allocPerS: 3 * mib, inFlight: 4 * mib,
		},
		{
			name: "clean-heap-warmup", seed: 3,
			note:      "a cache warmed from start: +150 MiB with a 5-minute time constant (30 MiB/min at first, 1.5 MiB/min at 15 min), then flat",
			live:      func(t float64) float64 { return float64(32*mib + fill(t, 0, 150*mib, 300)) },
			allocPerS: 4 * mib, inFlight: 8 * mib,
		},
		{
			name: "clean-heap-lru", seed: 4,
			note: "a bounded LRU of 96 MiB that fills within minutes, flushed by a reload at 60 min and refilled, churning at its cap",
			live: func(t float64) float64 {
				lru := min(96*mib, fill(t, 0, 300*mib, 600)) // fills fast, stops at its bound
				if t >= 3600 {
					lru = min(96*mib, fill(t, 3600, 300*mib, 300))
				}
				// Churn at the cap: entries of other sizes replace the evicted ones.
				churn := float64(2*mib*math.Sin(t/97)) * b2f(lru >= 96*mib)
				return float64(40*mib + lru + churn)
			},
			allocPerS: 3 * mib, inFlight: 5 * mib,
		},
		{
			name: "leak-heap-steady", seed: 5,
			note:      "a map never pruned from 20 min: 4 MiB/min on a 64 MiB base (the lines of the example's -leak-heap 4096; its live heap grows about 1.4 times as fast)",
			live:      func(t float64) float64 { return float64(64*mib + steadyLeak(t, 1200, 4*mib)) },
			allocPerS: 2 * mib, inFlight: 6 * mib,
			leak: leak(1200, 4*mib),
		},
		{
			name: "leak-heap-slow", seed: 6,
			note:      "a slow leak from 10 min: 512 KiB/min on a 32 MiB base (about 90%/h at first), allocating little (collections every 2-6 min)",
			live:      func(t float64) float64 { return float64(32*mib + steadyLeak(t, 600, 512<<10)) },
			allocPerS: 256 << 10, inFlight: 2 * mib,
			leak: leak(600, 512<<10),
		},
		{
			name: "leak-heap-stepwise", seed: 7,
			note: "a batch job whose 24 MiB of results are kept every 10 minutes from 15 min (2.4 MiB/min on average) on an 80 MiB base",
			live: func(t float64) float64 {
				if t < 900 {
					return 80 * mib
				}
				return float64(80*mib + float64(24*mib*math.Floor((t-900)/600+1)))
			},
			allocPerS: 3 * mib, inFlight: 6 * mib,
			leak: leak(900, 24*mib/10),
		},
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// writeCorpus writes every trace's CSV and labels under dir.
func writeCorpus(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, tr := range corpus() {
		lab, err := tr.labels()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, tr.name+".csv"), tr.render(), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, tr.name+".labels.json"), lab, 0o644); err != nil {
			return err
		}
	}
	return nil
}
