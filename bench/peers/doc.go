// Package peers benchmarks the watchdog's cost per sample against mosn.io/holmes, the closest
// peer, whose sampling goes through github.com/shirou/gopsutil. It is a module of its own so
// that the library's go.mod never lists the peers: run it from this directory,
//
//	cd bench/peers && go test -bench . -benchmem -count 6
//
// `go test ./...` at the repository's root does not enter it. Figures and the machine they came
// from are in ../README.md.
package peers
