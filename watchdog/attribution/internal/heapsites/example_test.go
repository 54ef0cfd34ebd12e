package heapsites_test

import (
	"fmt"

	"github.com/leakwatch/leakwatch/watchdog/attribution/internal/heapsites"
)

// 250 allocations of 64 bytes, each from a source line of its own: 100 in each of the first
// two functions of Funcs and 50 in the third.
func ExampleAlloc() {
	b := heapsites.Alloc(250, 64)
	fmt.Println(len(b), len(b[0]), len(b[249]), heapsites.Sites)
	// Output: 250 64 64 10000
}
