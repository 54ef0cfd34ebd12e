package watchdog

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// chart is one series drawn over the run.
type chart struct {
	Title string
	SVG   template.HTML
}

// smokeCharts returns the series charted for a run, with their threshold per minute (0: none).
func (w *Watchdog) smokeCharts(rep SmokeReport) []struct {
	name   string
	title  string
	limit  float64
	sample func(SmokeSample) (float64, bool)
} {
	type c = struct {
		name   string
		title  string
		limit  float64
		sample func(SmokeSample) (float64, bool)
	}
	out := []c{
		{SeriesGoroutines, "Goroutines (target " + target(rep.Targets.GoroutinesPerMin) + ")", rep.Targets.GoroutinesPerMin, func(s SmokeSample) (float64, bool) { return s.Goroutines, true }},
		{SeriesFDs, "File descriptors (target " + target(rep.Targets.FDsPerMin) + ")", rep.Targets.FDsPerMin, func(s SmokeSample) (float64, bool) { return s.FDs, s.FDsAvailable }},
	}
	for _, p := range rep.HTTPPools {
		out = append(out,
			c{HTTPSeries(p, HTTPOpen), "HTTP " + p + ": open connections", 0, nil},
			c{HTTPSeries(p, HTTPIdle), "HTTP " + p + ": idle connections", 0, nil},
			c{HTTPSeries(p, HTTPRequests), "HTTP " + p + ": requests", 0, nil})
	}
	return out
}

// smokeHTML renders the run as one self-contained page.
func (w *Watchdog) smokeHTML(ctx context.Context, rep SmokeReport) ([]byte, error) {
	now := w.clock.Now()
	end := rep.Completed
	if end.IsZero() {
		end = rep.ExpectedEnd
		if now.After(end) {
			end = now
		}
	}
	var charts []chart
	if rep.Status != SmokeNone {
		for _, c := range w.smokeCharts(rep) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var pts []Point
			for _, p := range w.History(c.name) {
				if !p.Time.Before(rep.Started) && !p.Time.After(end) {
					pts = append(pts, p)
				}
			}
			var marks []Point
			base := math.NaN()
			if c.sample != nil {
				if rep.Baseline != nil {
					if v, ok := c.sample(*rep.Baseline); ok {
						base = v
					}
				}
				for _, cp := range rep.Checkpoints {
					if v, ok := c.sample(cp.SmokeSample); ok && !cp.Missed {
						marks = append(marks, Point{cp.Time, v})
					}
				}
			}
			if len(pts) == 0 && len(marks) == 0 {
				continue
			}
			charts = append(charts, chart{Title: c.title, SVG: svgChart(c.title, pts, marks, rep.Started, end, rep.BaselineAt, base, c.limit)})
		}
	}
	var b bytes.Buffer
	err := smokePage.Execute(&b, struct {
		R      SmokeReport
		Charts []chart
		Text   string
		Now    string
	}{rep, charts, rep.Text(), now.Format(time.UnixDate)})
	return b.Bytes(), err
}

// svgChart draws points as a line, the baseline as a horizontal line, the threshold (baseline
// + limit per minute since the baseline) as a sloped dashed line and the checkpoints as dots.
func svgChart(title string, pts, marks []Point, t0, t1, baseAt time.Time, base, limit float64) template.HTML {
	const W, H, L, R, T, B = 600.0, 220.0, 56.0, 12.0, 12.0, 28.0
	lo, hi := math.Inf(1), math.Inf(-1)
	see := func(v float64) {
		if !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	for _, p := range pts {
		see(p.Value)
	}
	for _, p := range marks {
		see(p.Value)
	}
	see(base)
	threshold := !math.IsNaN(base) && limit > 0 && !baseAt.IsZero()
	thrEnd := 0.0
	if threshold {
		thrEnd = base + limit*t1.Sub(baseAt).Minutes()
		see(thrEnd)
	}
	if hi-lo < 1 {
		hi = lo + 1
	}
	pad := (hi - lo) * 0.05
	lo, hi = lo-pad, hi+pad
	span := t1.Sub(t0).Seconds()
	if span <= 0 {
		span = 1
	}
	x := func(t time.Time) float64 { return L + (W-L-R)*math.Max(0, math.Min(1, t.Sub(t0).Seconds()/span)) }
	y := func(v float64) float64 { return T + (H-T-B)*(1-(v-lo)/(hi-lo)) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %v %v" width="%v" height="%v" role="img" aria-label="%s">`,
		W, H, W, H, template.HTMLEscapeString(title))
	fmt.Fprintf(&s, `<rect x="%v" y="%v" width="%v" height="%v" fill="#fff" stroke="#ccc"/>`, L, T, W-L-R, H-T-B)
	for _, v := range []float64{lo + pad, (lo + hi) / 2, hi - pad} {
		fmt.Fprintf(&s, `<text x="%v" y="%s" class="tick" text-anchor="end">%s</text>`, L-4, f(y(v)+4), num(v))
	}
	fmt.Fprintf(&s, `<text x="%v" y="%v" class="tick">0s</text><text x="%v" y="%v" class="tick" text-anchor="end">%s</text>`,
		L, H-8, W-R, H-8, t1.Sub(t0).Round(time.Second))
	if !math.IsNaN(base) {
		fmt.Fprintf(&s, `<line class="baseline" x1="%v" y1="%s" x2="%v" y2="%s" stroke="#2a7" stroke-width="1"><title>baseline %s</title></line>`,
			L, f(y(base)), W-R, f(y(base)), num(base))
	}
	if threshold {
		fmt.Fprintf(&s, `<line class="threshold" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#d33" stroke-dasharray="6 4" stroke-width="1.5"><title>threshold %s/min from the baseline</title></line>`,
			f(x(baseAt)), f(y(base)), f(x(t1)), f(y(thrEnd)), num(limit))
	}
	if len(pts) > 0 {
		s.WriteString(`<polyline class="series" fill="none" stroke="#36c" stroke-width="1.5" points="`)
		for i, p := range pts {
			if i > 0 {
				s.WriteByte(' ')
			}
			s.WriteString(f(x(p.Time)) + "," + f(y(p.Value)))
		}
		s.WriteString(`"/>`)
	}
	for i, p := range marks {
		fmt.Fprintf(&s, `<line class="checkpoint" x1="%s" y1="%v" x2="%s" y2="%v" stroke="#999" stroke-dasharray="2 3"/>`,
			f(x(p.Time)), T, f(x(p.Time)), H-B)
		fmt.Fprintf(&s, `<circle class="mark" cx="%s" cy="%s" r="3.5" fill="#36c"><title>checkpoint %d: %s</title></circle>`,
			f(x(p.Time)), f(y(p.Value)), i+1, num(p.Value))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

var smokePage = template.Must(template.New("smoke").Funcs(template.FuncMap{
	"rate":  rate,
	"count": func(v float64) string { return count(v, true) },
	"sign":  signed,
	"dur":   durLabel,
	"stamp": func(t time.Time) string { return t.Format(time.UnixDate) },
	// Words, not emoji: a server's headless browser often has no emoji font.
	"mark": func(ok bool) template.HTML {
		if ok {
			return `<span class="ok">pass</span>`
		}
		return `<span class="bad">fail</span>`
	},
	"ev": alertEvidence,
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Smoke test: {{.R.Status}}</title>
<link rel="icon" href="data:,">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222}
.wrap{display:flex;flex-wrap:wrap;gap:24px}
.charts{flex:0 0 620px}.report{flex:1 1 480px;min-width:420px}
h1{font-size:20px}h2{font-size:16px;margin:18px 0 6px}
.status{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:bold}
.passed{background:#2a7}.failed{background:#d33}.running{background:#36c}.none{background:#888}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
pre{background:#f6f6f6;padding:8px;overflow-x:auto}
.tick{font-size:10px;fill:#555}
.legend span{margin-right:12px}
.ok{color:#2a7;font-weight:bold}.bad{color:#d33;font-weight:bold}
</style></head><body>
<h1>Connection Pool Smoke Test ({{dur .R.Duration}}) <span class="status {{.R.Status}}">{{.R.Status}}{{if .R.Verdict}}: {{.R.Verdict}}{{end}}</span>{{if .R.Stalled}} <span class="status failed">stalled</span>{{end}}</h1>
{{if eq .R.Status "none"}}<p>No smoke run.</p>{{range .R.Notes}}<p>{{.}}</p>{{end}}{{else}}
<p>Started {{stamp .R.Started}}{{if .R.Completed.IsZero}}, expected end {{stamp .R.ExpectedEnd}}{{else}}, finished {{stamp .R.Completed}}{{end}}. Page rendered {{.Now}}.</p>
<div class="wrap">
<div class="charts">
<p class="legend"><span style="color:#36c">&#9632; samples</span><span style="color:#2a7">&#9632; baseline</span><span style="color:#d33">&#9632; threshold</span><span style="color:#999">&#9632; checkpoints</span></p>
{{range .Charts}}<h2>{{.Title}}</h2>
{{.SVG}}
{{end}}</div>
<div class="report">
<h2>Checklist</h2>
<table><tr><th></th><th>Criterion</th><th>Measured</th><th></th></tr>
{{range .R.Criteria}}<tr><td>{{if .Must}}must{{else}}nice{{end}}</td><td>{{.Name}}</td><td>{{.Value}}</td><td>{{if .NotApplicable}}n/a{{else}}{{mark .Passed}}{{end}}</td></tr>
{{end}}</table>
{{if .R.Reasons}}<h2>Conclusion</h2><ul>{{range .R.Reasons}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Checkpoints</h2>
<table><tr><th>#</th><th>at</th><th>GOR</th><th>growth</th><th>/min</th><th>FD</th><th>growth</th><th>/min</th></tr>
{{range .R.Checkpoints}}<tr><td>{{.Index}}/{{.Of}}</td><td>{{.Label}}</td>{{if .Missed}}<td colspan="6">missed</td>{{else}}<td>{{count .Goroutines}}</td><td>{{sign .GoroutineGrowth}}</td><td>{{rate .GoroutineRatePerMin}}</td><td>{{count .FDs}}</td><td>{{sign .FDGrowth}}</td><td>{{rate .FDRatePerMin}}</td>{{end}}</tr>
{{end}}</table>
<h2>Stability</h2><p>Restarts: {{.R.Restarts}} {{mark (eq .R.Restarts 0)}}</p>
{{if .R.Growth}}<h2>What grew</h2><table><tr><th>Series</th><th>Baseline</th><th>Final</th><th>Rate/min</th><th>Level</th></tr>
{{range .R.Growth}}<tr><td>{{.Series}}</td><td>{{count .Baseline}}</td><td>{{count .Final}}</td><td>{{rate .RatePerMin}}</td><td>{{.Level}}</td></tr>
{{end}}</table>{{end}}
{{if .R.Alerts}}<h2>Alerts during the run</h2><ul>{{range .R.Alerts}}<li>{{.String}}{{with ev .}}<br><small>evidence: {{.}}</small>{{end}}</li>{{end}}</ul>{{end}}
{{if .R.Notes}}<h2>Notes</h2><ul>{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Output</h2><pre>{{.Text}}</pre>
</div></div>{{end}}
</body></html>
`))
