package watchdog

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// How a series' figures read to a person.
type unit uint8

const (
	unitCount   unit = iota // goroutines, descriptors, connections: a count now
	unitBytes               // heap_bytes, rss_bytes
	unitRatio               // reuse ratios, 0..1, printed as percent
	unitCounter             // counts since start (requests, errors, goroutines created): only their rate means something
)

func seriesUnit(name string) unit {
	switch {
	case name == SeriesGoroutinesCreated:
		return unitCounter
	case strings.HasSuffix(name, "_bytes"):
		return unitBytes
	case strings.HasPrefix(name, "http_"):
		for _, s := range []string{HTTPRequests, HTTPErrors, HTTPResponses5xx} {
			if strings.HasSuffix(name, "_"+s) {
				return unitCounter
			}
		}
		if strings.HasSuffix(name, "_"+HTTPReuseRatio) {
			return unitRatio
		}
	}
	return unitCount
}

// round3 prints v with about three significant digits, without trailing zeros: 315, 31.5,
// 3.15, 0.315.
func round3(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	a := math.Abs(v)
	prec := 2
	switch {
	case a >= 100:
		prec = 0
	case a >= 10:
		prec = 1
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// bytesHuman prints a byte count in binary units: "512 B", "3.2 MiB".
func bytesHuman(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for math.Abs(v) >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return round3(v) + " " + units[i]
}

// valueHuman prints a series' value: "1234", "3.2 MiB", "99.9%".
func valueHuman(name string, v float64) string {
	switch seriesUnit(name) {
	case unitBytes:
		return bytesHuman(v)
	case unitRatio:
		return round3(100*v) + "%"
	}
	return round3(v)
}

// rateHuman prints a series' growth per minute in its unit: "12 goroutines/min",
// "1.5 FDs/min", "3.2 MiB/min", "-0.5 points/min", "120/min".
func rateHuman(name string, perMin float64) string {
	switch seriesUnit(name) {
	case unitBytes:
		return bytesHuman(perMin) + "/min"
	case unitRatio:
		return round3(100*perMin) + " points/min"
	}
	switch name {
	case SeriesGoroutines:
		return round3(perMin) + " goroutines/min"
	case SeriesFDs:
		return round3(perMin) + " FDs/min"
	case SeriesGoroutinesCreated:
		return round3(perMin) + " created/min"
	}
	return round3(perMin) + "/min"
}

// ttlHuman prints a time to exhaustion: "" for none, else rounded to seconds or minutes.
func ttlHuman(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < 10*time.Minute:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}
