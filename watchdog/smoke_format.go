package watchdog

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Text returns the run's output lines so far, each ending in a newline: exactly what was
// written to the [WithSmokeOutput] writer.
func (r SmokeReport) Text() string {
	var b strings.Builder
	for _, l := range r.Lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// textSafe prints control characters (none in the lines the watchdog composes) as \x
// escapes, so that no output line can move a terminal's cursor or hide another.
func textSafe(l string) string {
	if !strings.ContainsFunc(l, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return l
	}
	var b strings.Builder
	for _, c := range l {
		if c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, "\\x%02x", c)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// textStatus is the line /smoke?format=text adds after the output while a run is going: its
// expected end, and whether it is stalled.
func (r SmokeReport) textStatus() string {
	if r.Status != SmokeRunning {
		return ""
	}
	s := "Expected End: " + r.ExpectedEnd.Format(time.UnixDate) + " (running"
	if r.Stalled {
		s += "; STALLED: no checkpoint for over 1.5 intervals"
	}
	return s + ")\n"
}

func mark(ok bool) string {
	if ok {
		return "✅"
	}
	return "❌"
}

// final returns the last checkpoint taken, if any.
func (r SmokeReport) final() (SmokeCheckpoint, bool) {
	for i := len(r.Checkpoints) - 1; i >= 0; i-- {
		if !r.Checkpoints[i].Missed {
			return r.Checkpoints[i], true
		}
	}
	return SmokeCheckpoint{}, false
}

func (r SmokeReport) criterion(prefix string) (SmokeCriterion, bool) {
	for _, c := range r.Criteria {
		if strings.HasPrefix(c.Name, prefix) {
			return c, true
		}
	}
	return SmokeCriterion{}, false
}

// Markdown returns the seed's reporting template filled in: the results table, connection
// reuse, stability, the checklist, the conclusion with its reasons and, for a run that grew,
// the evidence and the alerts raised during it. While the run is going the figures are those
// of the last checkpoint and the conclusion says so.
func (r SmokeReport) Markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Smoke Test Results\n\n")
	if r.Status == SmokeNone {
		p("No smoke run.\n")
		for _, n := range r.Notes {
			p("\n- %s\n", mdEscape(n))
		}
		return b.String()
	}
	p("**Date:** %s\n", r.Started.Format("2006-01-02"))
	p("**Duration:** %s\n", durWords(r.Duration))
	if r.Baseline != nil {
		p("**Baseline:** GOR=%s, FD=%s\n", count(r.Baseline.Goroutines, true), count(r.Baseline.FDs, r.Baseline.FDsAvailable))
	} else {
		p("**Baseline:** not taken yet (warm-up)\n")
	}
	p("**Status:** %s", r.Status)
	if r.Status == SmokeRunning {
		p(", expected end %s", r.ExpectedEnd.Format(time.UnixDate))
		if r.Stalled {
			p(" (**stalled**: no checkpoint for over 1.5 intervals)")
		}
	}
	p("\n\n## Results\n\n")
	p("| Metric | Baseline | Final | Growth | Rate/min | Target | Status |\n")
	p("|--------|----------|-------|--------|----------|--------|--------|\n")
	last, have := r.final()
	tg := r.Targets
	gTarget, fTarget := target(tg.GoroutinesPerMin), target(tg.FDsPerMin)
	if r.Baseline != nil && have {
		bl := r.Baseline
		p("| Goroutines | %s | %s | %s | %s/min | %s | %s |\n", count(bl.Goroutines, true), count(last.Goroutines, true),
			signed(last.GoroutineGrowth), rate(last.GoroutineRatePerMin), gTarget, rateMark(last.GoroutineRatePerMin, tg.GoroutinesPerMin))
		if last.FDsAvailable {
			p("| FDs | %s | %s | %s | %s/min | %s | %s |\n", count(bl.FDs, true), count(last.FDs, true),
				signed(last.FDGrowth), rate(last.FDRatePerMin), fTarget, rateMark(last.FDRatePerMin, tg.FDsPerMin))
		} else {
			p("| FDs | n/a | n/a | n/a | n/a | %s | not measurable here |\n", fTarget)
		}
		if bl.HTTP != nil && last.HTTP != nil {
			p("| HTTP Requests | %s | %s | %s | - | - | - |\n", count(bl.HTTP.Requests, true), count(last.HTTP.Requests, true),
				signed(last.HTTP.Requests-bl.HTTP.Requests))
		} else {
			p("| HTTP Requests | - | - | - | - | - | no HTTP pool configured |\n")
		}
	} else {
		p("| Goroutines | - | - | - | - | %s | no checkpoint yet |\n", gTarget)
		p("| FDs | - | - | - | - | %s | no checkpoint yet |\n", fTarget)
	}

	p("\n## Connection Reuse\n\n")
	var idle, active float64
	n := 0
	for _, c := range r.Checkpoints {
		if c.HTTP != nil {
			idle += c.HTTP.Idle
			active += c.HTTP.Active
			n++
		}
	}
	if n == 0 {
		if len(r.HTTPPools) == 0 {
			p("- no HTTP pool configured\n")
		} else {
			p("- HTTP metrics not available yet\n")
		}
	} else {
		p("- HTTP Idle Connections: %s (avg)\n", strconv.FormatFloat(idle/float64(n), 'f', 2, 64))
		p("- HTTP Active Connections: %s (avg)\n", strconv.FormatFloat(active/float64(n), 'f', 2, 64))
		if last.HTTP != nil {
			p("- Total Requests: %s\n", count(last.HTTP.Requests, true))
			p("- Estimated Reuse Rate: %s%%\n", strconv.FormatFloat(100*last.HTTP.ReuseRatio, 'f', 1, 64))
		}
	}

	p("\n## Stability\n\n")
	p("- Container Restarts: %d %s\n", r.Restarts, mark(r.Restarts == 0))
	p("- Crashes: not seen from inside the process; a crash shows as a restart above\n")
	if have && last.HTTP != nil {
		p("- HTTP Errors: %s %s\n", count(last.HTTP.Errors, true), mark(last.HTTP.Errors == 0))
	} else {
		p("- HTTP Errors: n/a\n")
	}
	up := time.Duration(0)
	if have {
		up = last.Elapsed.Round(time.Second)
	}
	full, _ := r.criterion("Test completes")
	if full.Pending {
		p("- Uptime: %s of %s so far (running)\n", durWords(up), durWords(r.Duration))
	} else {
		p("- Uptime: %s of %s %s\n", durWords(up), durWords(r.Duration), mark(full.Passed))
	}
	missed := 0
	for _, c := range r.Checkpoints {
		if c.Missed {
			missed++
		}
	}
	if missed > 0 {
		p("- Missed checkpoints: %d\n", missed)
	}

	p("\n## Checklist\n\n### Must-Have\n\n")
	for _, c := range r.Criteria {
		if c.Must {
			p("- [%s] %s: %s\n", check(c), c.Name, c.Value)
		}
	}
	p("\n### Nice-to-Have\n\n")
	for _, c := range r.Criteria {
		if !c.Must {
			p("- [%s] %s: %s\n", check(c), c.Name, c.Value)
		}
	}

	p("\n## Conclusion\n\n")
	switch r.Verdict {
	case "PASS":
		p("✅ PASS\n\n")
	case "FAIL":
		p("❌ FAIL\n\n")
	default:
		p("Running: no verdict before %s.\n\n", r.ExpectedEnd.Format(time.UnixDate))
	}
	for _, s := range r.Reasons {
		p("- %s\n", mdEscape(s))
	}
	gauges, counters := splitGrowth(r.Growth)
	if len(gauges) > 0 {
		p("\n## What Grew\n\n")
		p("| Series | Baseline | Final | Growth | Rate | Detector level |\n")
		p("|--------|----------|-------|--------|------|----------------|\n")
		for _, g := range gauges {
			p("| %s | %s | %s | %s | %s | %s |\n", mdEscape(g.Series), valueHuman(g.Series, g.Baseline), valueHuman(g.Series, g.Final),
				growthHuman(g), rateHuman(g.Series, g.RatePerMin), g.Level)
		}
		if r.Status == SmokeFailed && len(r.Alerts) == 0 {
			p("\nNo live alert was raised during the run: the verdict judges growth since the baseline, the detector judges its Window.\n")
		}
	}
	if len(counters) > 0 {
		p("\n## Rates\n\n")
		for _, g := range counters {
			p("- %s: %s over the run\n", mdEscape(g.Series), rateHuman(g.Series, g.RatePerMin))
		}
	}
	if len(r.Alerts) > 0 {
		p("\n## Alerts During the Run\n\n")
		for _, a := range r.Alerts {
			p("- %s %s\n", a.Time.Format(time.TimeOnly), mdEscape(a.String()))
			if v := viewEvidence(a.Evidence); v != nil {
				v.markdown(&b)
			}
		}
	}
	if len(r.Notes) > 0 {
		p("\n## Notes\n\n")
		for _, n := range r.Notes {
			p("- %s\n", mdEscape(n))
		}
	}
	return b.String()
}

func check(c SmokeCriterion) string {
	switch {
	case c.NotApplicable:
		return "-"
	case c.Pending:
		return "~"
	case c.Passed:
		return "x"
	}
	return " "
}

// splitGrowth parts the series that grew into gauges (a level now) and counters (counts since
// start, whose growth is only a rate).
func splitGrowth(gs []SmokeGrowth) (gauges, counters []SmokeGrowth) {
	for _, g := range gs {
		if seriesUnit(g.Series) == unitCounter {
			counters = append(counters, g)
		} else {
			gauges = append(gauges, g)
		}
	}
	return gauges, counters
}

// growthHuman prints a growth in the series' unit, signed.
func growthHuman(g SmokeGrowth) string {
	s := valueHuman(g.Series, g.Growth)
	if g.Growth >= 0 {
		s = "+" + s
	}
	return s
}

// durWords: "30 minutes" for whole minutes, else the Go duration.
func durWords(d time.Duration) string {
	if d > 0 && d%time.Minute == 0 {
		if d == time.Minute {
			return "1 minute"
		}
		return strconv.FormatInt(int64(d/time.Minute), 10) + " minutes"
	}
	return d.String()
}

// target is a rate criterion's target as the report's table prints it: "<10/min".
func target(limit float64) string {
	if limit <= 0 {
		return "no rule"
	}
	return "<" + perMin(limit)
}

// rateMark is the table's status of a rate against its limit (0: no rule).
func rateMark(v, limit float64) string {
	if limit <= 0 {
		return "-"
	}
	return mark(v < limit)
}

// line is the seed's checkpoint line: "[1/15] 2min: GOR=98 (+3, 1.50/min) FD=22 (+0, 0.00/min)".
func (c SmokeCheckpoint) line() string {
	fd := "FD=n/a"
	if c.FDsAvailable {
		fd = "FD=" + count(c.FDs, true) + " (" + signed(c.FDGrowth) + ", " + rate(c.FDRatePerMin) + "/min)"
	}
	return fmt.Sprintf("[%d/%d] %s: GOR=%s (%s, %s/min) %s", c.Index, c.Of, c.Label,
		count(c.Goroutines, true), signed(c.GoroutineGrowth), rate(c.GoroutineRatePerMin), fd)
}

func count(v float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func signed(v float64) string {
	if v >= 0 {
		return "+" + strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func rate(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if s == "-0.00" {
		return "0.00"
	}
	return s
}

// durLabel prints whole minutes as "30min" and anything else as a Go duration ("16s").
func durLabel(d time.Duration) string {
	if d > 0 && d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + "min"
	}
	return d.String()
}
