package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const dir = "../../internal/trend/testdata/heap"

type point struct{ t, v float64 }

func parse(t *testing.T, name string, b []byte) []point {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != "t,heap_live_bytes" {
		t.Fatalf("%s: header %q", name, lines[0])
	}
	var ps []point
	for i, l := range lines[1:] {
		ts, vs, ok := strings.Cut(l, ",")
		tv, err1 := strconv.ParseFloat(ts, 64)
		vv, err2 := strconv.ParseFloat(vs, 64)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("%s line %d: %q", name, i+2, l)
		}
		ps = append(ps, point{tv, vv})
	}
	return ps
}

// TestCorpusIsUpToDate checks that the committed traces are what the generator writes: the
// same rows, times within 1 ms and values within 1 KiB (a last-bit difference of math.Exp
// between platforms may round a value to the next KiB), and the same labels.
func TestCorpusIsUpToDate(t *testing.T) {
	for _, tr := range corpus() {
		t.Run(tr.name, func(t *testing.T) {
			csv, err := os.ReadFile(filepath.Join(dir, tr.name+".csv"))
			if err != nil {
				t.Fatalf("%v (run go generate ./bench/heaptraces)", err)
			}
			got, want := parse(t, "file", csv), parse(t, "generated", tr.render())
			if len(got) != len(want) {
				t.Fatalf("%d rows, the generator writes %d", len(got), len(want))
			}
			for i := range got {
				if math.Abs(got[i].t-want[i].t) > 0.001 || math.Abs(got[i].v-want[i].v) > 1024 {
					t.Fatalf("row %d: %v, the generator writes %v", i+2, got[i], want[i])
				}
			}
			lab, err := os.ReadFile(filepath.Join(dir, tr.name+".labels.json"))
			if err != nil {
				t.Fatal(err)
			}
			if wl, _ := tr.labels(); !bytes.Equal(lab, wl) {
				t.Errorf("labels:\n%s\nthe generator writes:\n%s", lab, wl)
			}
		})
	}
}

// slope is the least-squares slope of the points with t in [from, to), in bytes per minute.
func slope(ps []point, from, to float64) float64 {
	var n, st, sv, stt, stv float64
	for _, p := range ps {
		if p.t >= from && p.t < to {
			n++
			st += p.t
			sv += p.v
			stt += p.t * p.t
			stv += p.t * p.v
		}
	}
	return 60 * (n*stv - st*sv) / (n*stt - st*st)
}

// TestTracesMatchTheirLabels checks the data against what the labels say: a leak's trace
// grows at its labelled rate once it runs (within 15%, over its life after the first ten
// minutes); before it starts the readings stay within the band of the base plus what is in
// flight at a collection; a clean trace does not grow over its last half hour (by its
// least-squares slope, under half the slowest leak's rate: readings jitter by up to 8 MiB).
func TestTracesMatchTheirLabels(t *testing.T) {
	for _, tr := range corpus() {
		t.Run(tr.name, func(t *testing.T) {
			ps := parse(t, tr.name, tr.render())
			if n := len(ps); n < 690 || ps[n-1].t < duration-step {
				t.Fatalf("%d rows up to %v s, want about 720 up to %v", n, ps[n-1].t, duration)
			}
			var lab struct {
				Series map[string]json.RawMessage `json:"series"`
			}
			b, _ := tr.labels()
			if err := json.Unmarshal(b, &lab); err != nil || len(lab.Series) != 1 || lab.Series["heap_live_bytes"] == nil {
				t.Fatalf("labels %s: %v", b, err)
			}
			if tr.leak == nil {
				if s := slope(ps, duration-1800, duration+step); math.Abs(s) > 256<<10 { // half the slowest leak
					t.Errorf("clean trace grows %.0f B/min over its last half hour", s)
				}
				return
			}
			l := tr.leak
			if s := slope(ps, l.StartS+600, duration+step); math.Abs(s-l.RatePerMin) > 0.15*l.RatePerMin {
				t.Errorf("grows %.0f B/min after the leak starts, labelled %.0f", s, l.RatePerMin)
			}
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, p := range ps {
				if p.t < l.StartS {
					lo, hi = min(lo, p.v), max(hi, p.v)
				}
			}
			if band := tr.inFlight + 0.4*tr.allocPerS + 2048; hi-lo > band {
				t.Errorf("before the leak starts at %v s the readings span %.0f bytes, more than the noise band of %.0f", l.StartS, hi-lo, band)
			}
		})
	}
}
