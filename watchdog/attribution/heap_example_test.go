package attribution_test

import (
	"fmt"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

// A baseline taken after warm-up and a profile taken on an alert, as TakeHeap returns them
// (written out here so that the output is fixed).
func ExampleDiffHeap() {
	put := attribution.Frame{Function: "main.(*cache).put", File: "/src/app/cache.go", Line: 41}
	load := attribution.Frame{Function: "main.loadConfig", File: "/src/app/config.go", Line: 12}
	base := &attribution.HeapProfile{
		Sites: []attribution.HeapSite{{Site: load, Bytes: 8 << 20}, {Site: put, Bytes: 2 << 20}},
		Bytes: 10 << 20,
	}
	cur := &attribution.HeapProfile{
		Sites: []attribution.HeapSite{{Site: put, Bytes: 40 << 20}, {Site: load, Bytes: 8 << 20}},
		Bytes: 48 << 20,
	}
	r := attribution.DiffHeap(base, cur, 5)
	for _, g := range r.Grew {
		fmt.Println(g)
	}
	fmt.Printf("%d of %d sites grew\n", r.GrewSites, len(cur.Sites))
	// Output:
	// +38 MiB in main.(*cache).put (cache.go:41)
	// 1 of 2 sites grew
}
