// Package heapsites holds 10 000 distinct allocation sites, one a source
// line, for benchmarking heap profile attribution at a realistic profile
// size. It is imported by tests only.
package heapsites

//go:generate go run gen.go

// PerFunc is the number of allocation sites of each of [Funcs].
const PerFunc = 100

// Sites is the number of allocation sites in all.
const Sites = len(Funcs) * PerFunc

// Alloc allocates n bytes at each of the first k sites (k at most
// [Sites]) and returns them.
func Alloc(k, n int) [][]byte {
	out := make([][]byte, 0, k)
	for _, f := range Funcs {
		if len(out) >= k {
			break
		}
		b := f(n)
		out = append(out, b[:min(PerFunc, k-len(out))]...)
	}
	return out
}
