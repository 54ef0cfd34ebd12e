// Command heaptraces writes the heap part of the detection corpus: labelled traces of a
// process's live heap (runtime/metrics /gc/heap/live:bytes, the heap marked live by the last
// collection), in the corpus's format (NAME.csv with columns t,heap_live_bytes and
// NAME.labels.json), from a small deterministic model of a Go process's collector:
//
//   - the live heap is read after each collection only, so it changes in steps, at
//     collections spaced by the time the program takes to allocate as much again as is live
//     (GOGC=100), not at the sampling ticks;
//   - each reading adds what happened to be live at the mark: requests in flight, and the
//     floating garbage allocated while marking;
//   - samples every 10 s with up to 0.3 s of jitter, and about 1% of them missing.
//
// Every trace is seeded, and the output is the same on every run and platform (values in
// whole KiB; the model only uses IEEE arithmetic and math.Exp). Regenerate with
//
//	go generate ./bench/heaptraces
//
// which writes internal/trend/testdata/heap; TestCorpusIsUpToDate checks that the files there
// are what this program writes.
package main

//go:generate go run . -out ../../internal/trend/testdata/heap

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("out", "internal/trend/testdata/heap", "`directory` the traces are written to")
	flag.Parse()
	if err := writeCorpus(*out); err != nil {
		fmt.Fprintln(os.Stderr, "heaptraces:", err)
		os.Exit(1)
	}
}
