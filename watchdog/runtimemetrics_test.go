package watchdog

import "runtime/metrics"

// runtimeReads reports whether this runtime offers the runtime/metrics figure behind a series:
// goroutines_created and threads come from metrics added in Go 1.26, and read as unread (NaN)
// on Go 1.25. Series not read from runtime/metrics report true.
func runtimeReads(series string) bool {
	var name string
	switch series {
	case SeriesGoroutinesCreated:
		name = metricCreated
	case SeriesThreads:
		name = metricThreads
	default:
		return true
	}
	for _, d := range metrics.All() {
		if d.Name == name {
			return true
		}
	}
	return false
}
