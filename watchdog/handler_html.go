package watchdog

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"
)

// Bounds of the live page: the points of a sparkline, the alerts shown.
const (
	sparkPoints = 120
	liveAlerts  = 20
	liveRefresh = 5 // seconds between two refreshes
)

// liveView is what the live status page's template reads.
type liveView struct {
	Now, Started      string
	Running           bool
	Worst             string
	Refresh           int
	LastTick          string
	SinceTick         string
	Stalled           bool
	Ticks             uint64
	CostMean, CostMax string
	CostLast          string
	ProbeErrors       uint64
	HandlerPanics     uint64
	AlertsDropped     uint64
	Interval, Window  string
	Series            []liveSeries
	Alerts            []alertRow
	More              int
	Smoke             smokeBrief
	SmokeDone         string
}

type liveSeries struct {
	Name, Value, Level, Rate, TTL, Limit, Cause string
	Spark                                       template.HTML
	Err                                         string
	lv                                          Level
}

// liveHTML renders the live status page from a snapshot and the history.
func (w *Watchdog) liveHTML(ctx context.Context) ([]byte, error) {
	s := w.Snapshot()
	rep := w.SmokeReport()
	v := liveView{
		Now: s.Time.Format(time.UnixDate), Started: s.Started.Format(time.UnixDate), Running: s.Running,
		Refresh: liveRefresh, Stalled: s.Stalled, Ticks: s.Cost.Ticks,
		CostMean: s.Cost.Mean.String(), CostMax: s.Cost.Max.String(), CostLast: s.Cost.Last.String(),
		ProbeErrors: s.ProbeErrors, HandlerPanics: s.HandlerPanics, AlertsDropped: s.AlertsDropped,
		Interval: s.Interval.String(), Window: s.Window.String(),
		Smoke: smokeBrief{Status: rep.Status, Verdict: rep.Verdict, Stalled: rep.Stalled},
	}
	if !s.LastTick.IsZero() {
		v.LastTick = s.LastTick.Format(time.TimeOnly)
		v.SinceTick = s.Time.Sub(s.LastTick).Round(time.Millisecond).String()
	}
	if rep.Status == SmokeRunning {
		v.Smoke.ExpectedEnd = rep.ExpectedEnd
		v.SmokeDone = "expected end " + rep.ExpectedEnd.Format(time.UnixDate)
	}
	worst := LevelOK
	for _, x := range s.Series {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		worst = max(worst, x.Level)
		ls := liveSeries{Name: x.Name, Level: x.Level.String(), Err: x.LastError, lv: x.Level}
		switch {
		case x.Unsupported:
			ls.Value = "not on this system"
		case !x.Valid:
			ls.Value = "n/a"
		default:
			ls.Value = valueHuman(x.Name, x.Value)
		}
		if x.RateReady {
			ls.Rate = rateHuman(x.Name, x.RatePerMin)
		}
		if x.Level > LevelOK {
			ls.Cause = x.Cause.String()
		}
		ls.TTL = ttlHuman(x.TimeToExhaustion)
		if x.Limit > 0 {
			ls.Limit = valueHuman(x.Name, x.Limit)
		}
		ls.Spark = sparkline(w.History(x.Name), x.Level)
		v.Series = append(v.Series, ls)
	}
	v.Worst = worst.String()
	// The series that need attention first, then in their usual order.
	sort.SliceStable(v.Series, func(i, j int) bool { return v.Series[i].lv > v.Series[j].lv })
	alerts := s.Alerts
	if len(alerts) > liveAlerts {
		v.More = len(alerts) - liveAlerts
		alerts = alerts[len(alerts)-liveAlerts:]
	}
	for i := len(alerts) - 1; i >= 0; i-- { // newest first
		a := alerts[i]
		v.Alerts = append(v.Alerts, alertRow{a.Time.Format(time.TimeOnly), a.Series, a.Level.String(), a.Reason, viewEvidence(a.Evidence)})
	}
	var b bytes.Buffer
	err := livePage.Execute(&b, v)
	return b.Bytes(), err
}

// sparkline draws the last sparkPoints samples of a series as a small line.
func sparkline(pts []Point, l Level) template.HTML {
	const W, H = 120.0, 24.0
	if len(pts) > sparkPoints {
		step := float64(len(pts)) / sparkPoints
		sel := make([]Point, 0, sparkPoints)
		for i := range sparkPoints {
			sel = append(sel, pts[int(float64(i)*step)])
		}
		sel[len(sel)-1] = pts[len(pts)-1]
		pts = sel
	}
	if len(pts) < 2 {
		return ""
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	t0, t1 := pts[0].Time, pts[len(pts)-1].Time
	span := t1.Sub(t0).Seconds()
	if span <= 0 {
		span = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" width="%v" height="%v" viewBox="0 0 %v %v"><polyline fill="none" stroke="%s" stroke-width="1.2" points="`,
		W, H, W, H, sparkColor(l))
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		x := 1 + (W-2)*p.Time.Sub(t0).Seconds()/span
		y := H - 2 - (H-4)*(p.Value-lo)/(hi-lo)
		fmt.Fprintf(&b, "%.1f,%.1f", x, y)
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String())
}

func sparkColor(l Level) string {
	if l == LevelOK {
		return "#36c"
	}
	return levelColor(l)
}

var livePage = template.Must(template.Must(template.New("live").Funcs(pageFuncs).Parse(evidenceTemplate)).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{{.Refresh}}">
<title>Watchdog: {{.Worst}}</title>
<link rel="icon" href="data:,">
<style>{{css}}
.live td{white-space:nowrap}</style></head><body>
<h1>Watchdog <span class="status {{.Worst}}" id="worst">{{.Worst}}</span>{{if not .Running}} <span class="status none">stopped</span>{{end}}{{if .Stalled}} <span class="status failed">stalled</span>{{end}}</h1>
<p>{{.Now}}. Started {{.Started}}; sampling every {{.Interval}}, growth judged over {{.Window}}. This page refreshes every {{.Refresh}}s.</p>
<h2>Series</h2>
<table class="live"><tr><th>series</th><th>value</th><th>level</th><th>rate</th><th>last samples</th><th>exhausted in</th><th>limit</th></tr>
{{range .Series}}<tr><td>{{.Name}}</td><td class="n">{{.Value}}</td><td><span class="status {{.Level}}">{{.Level}}</span>{{with .Cause}} <small>{{.}}</small>{{end}}</td><td class="n">{{if .Rate}}{{.Rate}}{{else}}<span class="pending">not ready</span>{{end}}</td><td>{{.Spark}}</td><td class="n">{{.TTL}}</td><td class="n">{{.Limit}}</td></tr>
{{with .Err}}<tr><td></td><td colspan="6"><small>last error: {{.}}</small></td></tr>{{end}}{{end}}</table>
<h2>Recent alerts</h2>{{if not .Alerts}}<p>None.</p>{{end}}{{if .More}}<p><small>{{.More}} older alerts not shown</small></p>{{end}}
{{range .Alerts}}<div class="alertrow"><span class="status {{.Level}}">{{.Level}}</span> {{.Time}} <b>{{.Series}}</b>: {{.Reason}}
{{with .Ev}}{{template "evidence" .}}{{end}}</div>
{{end}}
<div class="health"><h2>Watchdog health</h2>
<table><tr><td>last tick</td><td>{{if .LastTick}}{{.LastTick}} ({{.SinceTick}} ago){{else}}none yet{{end}}{{if .Stalled}} <span class="fail">stalled</span>{{end}}</td></tr>
<tr><td>ticks</td><td class="n">{{.Ticks}}</td></tr>
<tr><td>tick cost</td><td>last {{.CostLast}}, mean {{.CostMean}}, max {{.CostMax}}</td></tr>
<tr><td>probe errors</td><td class="n">{{.ProbeErrors}}</td></tr>
<tr><td>alerts dropped for handlers</td><td class="n">{{.AlertsDropped}}</td></tr>
<tr><td>handler panics</td><td class="n">{{.HandlerPanics}}</td></tr>
<tr><td>smoke run</td><td><a href="smoke?format=html">{{.Smoke.Status}}{{with .Smoke.Verdict}}: {{.}}{{end}}</a>{{with .SmokeDone}} <small>{{.}}</small>{{end}}</td></tr></table>
</div>
</body></html>
`))
