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

// chartSpec is one chart: a series of the run over [t0, t1], with what is drawn on it.
type chartSpec struct {
	title  string
	pts    []chartPoint
	t0, t1 time.Time
	loc    *time.Location
	// base is the baseline value (NaN: none), drawn from baseAt; limit the threshold per
	// minute drawn from it (0: none).
	base   float64
	baseAt time.Time
	limit  float64
	marks  []Point // checkpoints
	alerts []Alert // alert moments on this series
	format func(float64) string
}

// chart is one rendered chart.
type chart struct {
	Title string
	SVG   template.HTML
}

// runCharts returns the charts of a run from its own series.
func runCharts(rep SmokeReport, c *smokeChart, now time.Time) []chart {
	if c == nil || rep.Status == SmokeNone {
		return nil
	}
	t0, t1 := rep.Started, rep.Completed
	if t1.IsZero() {
		t1 = rep.ExpectedEnd
		if now.After(t1) {
			t1 = now
		}
	}
	loc := rep.Started.Location()
	base := func(get func(SmokeSample) (float64, bool)) float64 {
		if rep.Baseline != nil {
			if v, ok := get(*rep.Baseline); ok {
				return v
			}
		}
		return math.NaN()
	}
	marks := func(get func(SmokeSample) (float64, bool)) []Point {
		var m []Point
		every := (len(rep.Checkpoints) + pageMarks - 1) / pageMarks // at most pageMarks marks
		for i, cp := range rep.Checkpoints {
			if every > 1 && (i+1)%every != 0 {
				continue
			}
			if v, ok := get(cp.SmokeSample); ok && !cp.Missed {
				m = append(m, Point{cp.Time, v})
			}
		}
		return m
	}
	on := func(match func(string) bool) []Alert {
		var out []Alert
		for _, a := range rep.Alerts {
			if match(a.Series) {
				out = append(out, a)
			}
		}
		return out
	}
	httpSuffix := func(suf string) func(string) bool {
		return func(s string) bool { return strings.HasPrefix(s, "http_") && strings.HasSuffix(s, "_"+suf) }
	}
	gor := func(s SmokeSample) (float64, bool) { return s.Goroutines, true }
	fds := func(s SmokeSample) (float64, bool) { return s.FDs, s.FDsAvailable }
	open := func(s SmokeSample) (float64, bool) {
		if s.HTTP == nil {
			return 0, false
		}
		return s.HTTP.Open, true
	}
	idle := func(s SmokeSample) (float64, bool) {
		if s.HTTP == nil {
			return 0, false
		}
		return s.HTTP.Idle, true
	}
	specs := []chartSpec{
		{title: "Goroutines (target " + target(rep.Targets.GoroutinesPerMin) + ")", pts: c.points(chartGoroutines),
			base: base(gor), limit: rep.Targets.GoroutinesPerMin, marks: marks(gor),
			alerts: on(func(s string) bool { return s == SeriesGoroutines })},
		{title: "File descriptors (target " + target(rep.Targets.FDsPerMin) + ")", pts: c.points(chartFDs),
			base: base(fds), limit: rep.Targets.FDsPerMin, marks: marks(fds),
			alerts: on(func(s string) bool { return s == SeriesFDs })},
	}
	if len(rep.HTTPPools) > 0 {
		pools := strings.Join(rep.HTTPPools, "+")
		specs = append(specs,
			chartSpec{title: "HTTP " + pools + ": open connections", pts: c.points(chartHTTPOpen),
				base: base(open), marks: marks(open), alerts: on(httpSuffix(HTTPOpen))},
			chartSpec{title: "HTTP " + pools + ": idle connections (band: min to max per column)", pts: c.points(chartHTTPIdle),
				base: base(idle), marks: marks(idle), alerts: on(httpSuffix(HTTPIdle))})
	}
	var out []chart
	for _, s := range specs {
		if len(s.pts) == 0 && len(s.marks) == 0 {
			continue
		}
		s.t0, s.t1, s.loc, s.baseAt = t0, t1, loc, rep.BaselineAt
		s.pts = regroup(s.pts, t0, t1.Sub(t0)/drawnColumns)
		out = append(out, chart{Title: s.title, SVG: s.svg()})
	}
	return out
}

// drawnColumns is the number of columns a chart draws (about 4 px each): each column's band
// is the spread of the samples in it.
const drawnColumns = 132

// smokeHTML renders the run as one self-contained page.
func (w *Watchdog) smokeHTML(ctx context.Context) ([]byte, error) {
	now := w.clock.Now()
	rep, c := w.smokeSt.reportWithChart(now)
	if needEvidence(rep.Alerts) {
		fillEvidence(rep.Alerts, w.Snapshot().Alerts)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return renderSmokePage(rep, c, now)
}

// smokeView is what the smoke page's template reads.
type smokeView struct {
	R        SmokeReport
	Charts   []chart
	Text     string
	Now      string
	Phase    string // running, passed, failed, none
	Progress float64
	Done     string // "8s of 16s"
	Track    []trackItem
	Gauges   []growthRow
	Counters []growthRow
	Alerts   []alertRow
	More     int // alerts left out
	CPs      []SmokeCheckpoint
	MoreCPs  int // checkpoint rows left out
}

type trackItem struct {
	Name, Value string
	OK          bool
}

type growthRow struct {
	Series, Baseline, Final, Growth, Rate, Level string
}

type alertRow struct {
	Time, Series, Level, Reason string
	Ev                          *evidenceView
}

// Bounds of the smoke page: the alerts (the newest), the checkpoint rows and output lines (the
// last), the checkpoints marked on a chart (evenly spread).
const (
	smokePageAlerts = 20
	pageCheckpoints = 60
	pageLines       = 200
	pageMarks       = 60
)

func renderSmokePage(rep SmokeReport, c *smokeChart, now time.Time) ([]byte, error) {
	v := smokeView{R: rep, Charts: runCharts(rep, c, now), Now: now.Format(time.UnixDate), Phase: string(rep.Status), CPs: rep.Checkpoints}
	if n := len(v.CPs); n > pageCheckpoints {
		v.MoreCPs, v.CPs = n-pageCheckpoints, v.CPs[n-pageCheckpoints:]
	}
	if n := len(rep.Lines); n > pageLines {
		v.Text = fmt.Sprintf("(%d earlier lines in ?format=text)\n", n-pageLines) + SmokeReport{Lines: rep.Lines[n-pageLines:]}.Text()
	} else {
		v.Text = rep.Text()
	}
	if rep.Status == SmokeRunning {
		el := time.Duration(0)
		if !rep.BaselineAt.IsZero() {
			el = min(now.Sub(rep.BaselineAt), rep.Duration)
		}
		v.Progress = 100 * el.Seconds() / rep.Duration.Seconds()
		v.Done = durLabel(el.Round(time.Second)) + " of " + durLabel(rep.Duration)
		for _, cr := range rep.Criteria {
			if cr.Must && !cr.Pending && !cr.NotApplicable {
				v.Track = append(v.Track, trackItem{cr.Name, cr.Value, cr.Passed})
			}
		}
	}
	gauges, counters := splitGrowth(rep.Growth)
	for _, g := range gauges {
		v.Gauges = append(v.Gauges, growthRow{g.Series, valueHuman(g.Series, g.Baseline), valueHuman(g.Series, g.Final),
			growthHuman(g), rateHuman(g.Series, g.RatePerMin), g.Level.String()})
	}
	for _, g := range counters {
		v.Counters = append(v.Counters, growthRow{Series: g.Series, Rate: rateHuman(g.Series, g.RatePerMin)})
	}
	alerts := rep.Alerts
	if len(alerts) > smokePageAlerts {
		v.More = len(alerts) - smokePageAlerts
		alerts = alerts[len(alerts)-smokePageAlerts:]
	}
	for _, a := range alerts {
		v.Alerts = append(v.Alerts, alertRow{a.Time.In(rep.Started.Location()).Format(time.TimeOnly), a.Series, a.Level.String(), a.Reason, viewEvidence(a.Evidence)})
	}
	var b bytes.Buffer
	err := smokePage.Execute(&b, v)
	return b.Bytes(), err
}

// niceStep returns a round step (1, 2 or 5 x 10^k) that cuts span into about n parts.
func niceStep(span float64, n int) float64 {
	if span <= 0 || math.IsNaN(span) || math.IsInf(span, 0) {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// timeSteps are the round intervals of a clock-time axis.
var timeSteps = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second,
	30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
	30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// svg draws the series' columns as a band (min to max) with their mean as a line, the baseline
// as a horizontal line, the threshold (baseline + limit per minute since the baseline) as a
// sloped dashed line, the checkpoints as dots on dashed verticals and the alerts as coloured
// verticals; clock-time ticks on x, round ticks on y.
func (s chartSpec) svg() template.HTML {
	const W, H, L, R, T, B = 600.0, 220.0, 56.0, 14.0, 14.0, 30.0
	lo, hi := math.Inf(1), math.Inf(-1)
	see := func(v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	last := s.t0
	for _, p := range s.pts {
		see(p.lo)
		see(p.hi)
		if p.t.After(last) {
			last = p.t
		}
	}
	for _, p := range s.marks {
		see(p.Value)
	}
	see(s.base)
	threshold := !math.IsNaN(s.base) && s.limit > 0 && !s.baseAt.IsZero()
	thr := func(t time.Time) float64 { return s.base + s.limit*t.Sub(s.baseAt).Minutes() }
	if threshold && last.After(s.baseAt) && hi >= s.base+(thr(last)-s.base)/2 {
		// The data is at least half way to where the threshold stands now: show both. Further
		// below, the threshold leaves the chart at the top (clipped) and the data stays readable.
		see(thr(last))
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	if hi-lo < 4 {
		mid := (hi + lo) / 2
		lo, hi = math.Max(0, math.Floor(mid-2)), math.Floor(mid-2)+4
		if lo == 0 {
			hi = math.Max(hi, 4)
		}
	}
	step := niceStep(hi-lo, 4)
	lo, hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	if hi == lo {
		hi = lo + step
	}
	span := s.t1.Sub(s.t0).Seconds()
	if span <= 0 {
		span = 1
	}
	x := func(t time.Time) float64 { return L + (W-L-R)*math.Max(0, math.Min(1, t.Sub(s.t0).Seconds()/span)) }
	y := func(v float64) float64 { return T + (H-T-B)*(1-(v-lo)/(hi-lo)) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %v %v" width="%v" height="%v" role="img" aria-label="%s" data-t0="%s" data-t1="%s">`,
		W, H, W, H, template.HTMLEscapeString(s.title), s.t0.UTC().Format(time.RFC3339), s.t1.UTC().Format(time.RFC3339))
	id := fmt.Sprintf("c%x", len(s.title)*7919+int(s.t0.Unix()%1000))
	fmt.Fprintf(&b, `<defs><clipPath id="%s"><rect x="%v" y="%v" width="%v" height="%v"/></clipPath></defs>`, id, L, T, W-L-R, H-T-B)
	fmt.Fprintf(&b, `<rect x="%v" y="%v" width="%v" height="%v" fill="#fff" stroke="#ccc"/>`, L, T, W-L-R, H-T-B)
	for v := lo; v <= hi+step/2; v += step {
		fmt.Fprintf(&b, `<line class="grid" x1="%v" y1="%s" x2="%v" y2="%s" stroke="#eee"/>`, L, f(y(v)), W-R, f(y(v)))
		label := round3(v)
		if s.format != nil {
			label = s.format(v)
		}
		fmt.Fprintf(&b, `<text x="%v" y="%s" class="tick ytick" text-anchor="end">%s</text>`, L-4, f(y(v)+3.5), template.HTMLEscapeString(label))
	}
	var ts time.Duration
	for _, d := range timeSteps {
		ts = d
		if s.t1.Sub(s.t0)/d <= 6 {
			break
		}
	}
	layout := "15:04"
	if ts < time.Minute {
		layout = "15:04:05"
	}
	for t := s.t0.Truncate(ts); !t.After(s.t1); t = t.Add(ts) {
		if t.Before(s.t0) {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%s" y1="%v" x2="%s" y2="%v" stroke="#999"/><text x="%s" y="%v" class="tick xtick" text-anchor="middle">%s</text>`,
			f(x(t)), H-B, f(x(t)), H-B+4, f(x(t)), H-B+15, t.In(s.loc).Format(layout))
	}
	fmt.Fprintf(&b, `<g clip-path="url(#%s)">`, id)
	if !math.IsNaN(s.base) {
		fmt.Fprintf(&b, `<line class="baseline" x1="%v" y1="%s" x2="%v" y2="%s" stroke="#2a7" stroke-width="1"><title>baseline %s</title></line>`,
			L, f(y(s.base)), W-R, f(y(s.base)), round3(s.base))
	}
	if threshold {
		fmt.Fprintf(&b, `<line class="threshold" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#d33" stroke-dasharray="6 4" stroke-width="1.5"><title>threshold: baseline + %s</title></line>`,
			f(x(s.baseAt)), f(y(s.base)), f(x(s.t1)), f(y(thr(s.t1))), perMin(s.limit))
	}
	if len(s.pts) > 0 {
		b.WriteString(`<polygon class="band" fill="#36c" fill-opacity="0.18" stroke="none" points="`)
		for _, p := range s.pts {
			b.WriteString(f(x(p.t)) + "," + f(y(p.hi)) + " ")
		}
		for i := len(s.pts) - 1; i >= 0; i-- {
			b.WriteString(f(x(s.pts[i].t)) + "," + f(y(s.pts[i].lo)) + " ")
		}
		b.WriteString(`"/><polyline class="series" fill="none" stroke="#36c" stroke-width="1.5" points="`)
		for i, p := range s.pts {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(f(x(p.t)) + "," + f(y(p.mean)))
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`</g>`)
	for i, p := range s.marks {
		fmt.Fprintf(&b, `<line class="checkpoint" x1="%s" y1="%v" x2="%s" y2="%v" stroke="#999" stroke-dasharray="2 3"/>`,
			f(x(p.Time)), T, f(x(p.Time)), H-B)
		fmt.Fprintf(&b, `<circle class="mark" cx="%s" cy="%s" r="3.5" fill="#36c"><title>checkpoint %d: %s</title></circle>`,
			f(x(p.Time)), f(y(p.Value)), i+1, round3(p.Value))
	}
	for _, a := range s.alerts {
		col := levelColor(a.Level)
		fmt.Fprintf(&b, `<line class="alert" x1="%s" y1="%v" x2="%s" y2="%v" stroke="%s" stroke-width="2"><title>%s</title></line>`,
			f(x(a.Time)), T, f(x(a.Time)), H-B, col, template.HTMLEscapeString(a.Time.In(s.loc).Format(time.TimeOnly)+" "+a.String()))
		fmt.Fprintf(&b, `<text x="%s" y="%v" class="tick" fill="%s" text-anchor="start">%s</text>`, f(x(a.Time)+3), T+10, col, a.Level)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func levelColor(l Level) string {
	switch l {
	case LevelCritical:
		return "#b00"
	case LevelWarning:
		return "#e67e00"
	case LevelNotice:
		return "#b8a000"
	}
	return "#2a7"
}

// pageCSS is the style of the smoke and live pages.
const pageCSS = `body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222}
.wrap{display:flex;flex-wrap:wrap;gap:24px}
.charts{flex:0 0 620px}.report{flex:1 1 480px;min-width:420px}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:18px 0 6px}h3{font-size:14px;margin:10px 0 4px}
.status{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:bold}
.passed,.ok{background:#2a7}.failed,.critical{background:#b00}.running{background:#36c}.none{background:#888}
.warning{background:#e67e00}.notice{background:#b8a000}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
td.n{text-align:right}
pre{background:#f6f6f6;padding:8px;overflow-x:auto}
.tick{font-size:10px;fill:#555}
.legend span{margin-right:12px}
.pass{color:#2a7;font-weight:bold}.fail{color:#b00;font-weight:bold}.pending{color:#777;font-style:italic}.na{color:#777}
.bar{background:#e3e8f3;border-radius:4px;height:14px;width:100%;max-width:600px}
.bar div{background:#36c;height:14px;border-radius:4px}
.evidence{border-left:3px solid #e67e00;padding:2px 0 2px 10px;margin:6px 0;max-width:760px}
.evidence table{width:100%}.evidence td{overflow-wrap:anywhere}.fn{font-size:12px;color:#555}
.diag{font-weight:bold;margin:2px 0}
.facts{margin:2px 0;color:#444;font-size:13px}
small{color:#555}`

var pageFuncs = template.FuncMap{
	"rate":  rate,
	"count": func(v float64) string { return count(v, true) },
	"sign":  signed,
	"dur":   durLabel,
	"stamp": func(t time.Time) string { return t.Format(time.UnixDate) },
	"pct":   func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) },
	// Words, not emoji: a server's headless browser often has no emoji font.
	"mark": func(ok bool) template.HTML {
		if ok {
			return `<span class="pass">pass</span>`
		}
		return `<span class="fail">fail</span>`
	},
	"css": func() template.CSS { return template.CSS(pageCSS) },
}

// evidenceTemplate lays out an *evidenceView.
const evidenceTemplate = `{{define "evidence"}}<div class="evidence">
<p class="diag">{{.Summary}}</p>
{{if .Facts}}<ul class="facts">{{range .Facts}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Groups}}<h3>Goroutine groups that grew</h3><table><tr><th>count</th><th>delta</th><th>wait</th><th>top frame</th></tr>
{{range .Groups}}<tr><td class="n">{{.Count}}</td><td class="n">{{printf "%+d" .Delta}}</td><td>{{.Wait}}</td><td><code title="{{.File}}">{{.Where}}</code><br><span class="fn">{{.Function}}</span></td></tr>
{{end}}</table>{{end}}
{{if .Descriptors}}<h3>Descriptors by kind and target</h3><table><tr><th>count</th><th>delta</th><th>kind</th><th>target</th></tr>
{{range .Descriptors}}<tr><td class="n">{{.Count}}</td><td class="n">{{printf "%+d" .Delta}}</td><td>{{.Kind}}</td><td>{{.Target}}</td></tr>
{{end}}</table>{{end}}
{{if .Conns}}<h3>Connections by state and peer</h3><table><tr><th>count</th><th>delta</th><th>kind</th><th>state</th><th>peer</th></tr>
{{range .Conns}}<tr><td class="n">{{.Count}}</td><td class="n">{{printf "%+d" .Delta}}</td><td>{{.Kind}}</td><td>{{.State}}</td><td>{{.Peer}}</td></tr>
{{end}}</table>{{end}}
{{if .TCP}}<p><small>TCP states: {{.TCP}}</small></p>{{end}}
{{range .Callouts}}<p><b>{{.}}</b></p>{{end}}
{{if .More}}<p><small>{{.More}} more rows in the JSON report</small></p>{{end}}
{{if .Dumps}}<p><small>dumps: {{range .Dumps}}{{.}} {{end}}</small></p>{{end}}
{{if .Error}}<p><small>error: {{.Error}}</small></p>{{end}}
</div>{{end}}`

var smokePage = template.Must(template.Must(template.New("smoke").Funcs(pageFuncs).Parse(evidenceTemplate)).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Smoke test: {{.R.Status}}</title>
<link rel="icon" href="data:,">
<style>{{css}}</style></head><body>
<h1>Connection Pool Smoke Test ({{dur .R.Duration}})
{{if eq .Phase "running"}}<span class="status running" id="phase">running: {{.Done}}</span>{{else if eq .Phase "none"}}<span class="status none" id="phase">no run</span>{{else}}<span class="status {{.Phase}}" id="phase">{{.Phase}}: {{.R.Verdict}}</span>{{end}}{{if .R.Stalled}} <span class="status failed">stalled</span>{{end}}</h1>
{{if eq .Phase "none"}}<p>No smoke run.</p>{{range .R.Notes}}<p>{{.}}</p>{{end}}{{else}}
<p>Started {{stamp .R.Started}}{{if .R.Completed.IsZero}}, expected end {{stamp .R.ExpectedEnd}}{{else}}, finished {{stamp .R.Completed}}{{end}}. Page rendered {{.Now}}.</p>
{{if eq .Phase "running"}}<div class="bar" title="{{.Done}}"><div style="width:{{pct .Progress}}%"></div></div>
<p id="track">{{if .R.BaselineAt.IsZero}}Warming up: the baseline is taken after {{dur .R.Warmup}}.{{else}}So far: {{range $i, $t := .Track}}{{if $i}}; {{end}}{{$t.Name}} {{$t.Value}} <span class="{{if $t.OK}}pass">on track{{else}}fail">off track{{end}}</span>{{end}}. No verdict before the end.{{end}}</p>{{end}}
<div class="wrap">
<div class="charts">
<p class="legend"><span style="color:#36c">&#9632; samples (band: min to max)</span><span style="color:#2a7">&#9632; baseline</span><span style="color:#d33">&#9632; threshold</span><span style="color:#999">&#9632; checkpoints</span><span style="color:#e67e00">&#9632; alerts</span></p>
{{range .Charts}}<h2>{{.Title}}</h2>
{{.SVG}}
{{end}}</div>
<div class="report">
<h2>Checklist</h2>
<table id="checklist"><tr><th></th><th>Criterion</th><th>Measured</th><th></th></tr>
{{range .R.Criteria}}<tr><td>{{if .Must}}must{{else}}nice{{end}}</td><td>{{.Name}}</td><td>{{.Value}}</td><td>{{if .NotApplicable}}<span class="na">n/a</span>{{else if .Pending}}<span class="pending">pending</span>{{else}}{{mark .Passed}}{{end}}</td></tr>
{{end}}</table>
{{if .R.Reasons}}<h2>Conclusion</h2><ul>{{range .R.Reasons}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Gauges}}<h2>What grew</h2><table><tr><th>Series</th><th>Baseline</th><th>Final</th><th>Growth</th><th>Rate</th><th>Detector</th></tr>
{{range .Gauges}}<tr><td>{{.Series}}</td><td class="n">{{.Baseline}}</td><td class="n">{{.Final}}</td><td class="n">{{.Growth}}</td><td class="n">{{.Rate}}</td><td>{{.Level}}</td></tr>
{{end}}</table>{{if and (eq .Phase "failed") (not .R.Alerts)}}<p><small>No live alert was raised during the run: the verdict judges growth since the baseline, the detector judges its Window.</small></p>{{end}}{{end}}
{{if .Counters}}<p><small>Counters over the run: {{range $i, $c := .Counters}}{{if $i}}, {{end}}{{$c.Series}} {{$c.Rate}}{{end}}</small></p>{{end}}
{{if .Alerts}}<h2>Alerts during the run</h2>{{if .More}}<p><small>{{.More}} older alerts not shown</small></p>{{end}}
{{range .Alerts}}<div class="alertrow"><span class="status {{.Level}}">{{.Level}}</span> {{.Time}} <b>{{.Series}}</b>: {{.Reason}}
{{with .Ev}}{{template "evidence" .}}{{end}}</div>
{{end}}{{end}}
<h2>Checkpoints</h2>
<table><tr><th>#</th><th>at</th><th>GOR</th><th>growth</th><th>/min</th><th>FD</th><th>growth</th><th>/min</th></tr>
{{if .MoreCPs}}<tr><td colspan="8"><small>{{.MoreCPs}} earlier checkpoints in the JSON report</small></td></tr>{{end}}
{{range .CPs}}<tr><td>{{.Index}}/{{.Of}}</td><td>{{.Label}}</td>{{if .Missed}}<td colspan="6">missed</td>{{else}}<td class="n">{{count .Goroutines}}</td><td class="n">{{sign .GoroutineGrowth}}</td><td class="n">{{rate .GoroutineRatePerMin}}</td><td class="n">{{count .FDs}}</td><td class="n">{{sign .FDGrowth}}</td><td class="n">{{rate .FDRatePerMin}}</td>{{end}}</tr>
{{end}}</table>
<h2>Stability</h2><p>Restarts: {{.R.Restarts}} {{mark (eq .R.Restarts 0)}}</p>
{{if .R.Notes}}<h2>Notes</h2><ul>{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Output</h2><pre>{{.Text}}</pre>
</div></div>{{end}}
</body></html>
`))
