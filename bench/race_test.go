//go:build race

package bench

// raceEnabled reports whether the tests run under the race detector, whose instrumentation
// makes CPU figures meaningless.
const raceEnabled = true
