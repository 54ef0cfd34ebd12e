package watchdog

// Indices of the built-in series in every sample.
const (
	idxGoroutines = iota
	idxGoroutinesCreated
	idxThreads
	idxHeapBytes
	idxRSSBytes
	idxFDs
	idxFDLimit
	idxHeapLive
	nBuiltin
)

func builtinSeries() []string {
	return []string{SeriesGoroutines, SeriesGoroutinesCreated, SeriesThreads, SeriesHeapBytes, SeriesRSSBytes, SeriesFDs, SeriesFDLimit, SeriesHeapLive}
}
