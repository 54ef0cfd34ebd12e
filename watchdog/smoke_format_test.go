package watchdog

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

func TestDurLabel(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Minute, "30min"},
		{2 * time.Minute, "2min"},
		{time.Hour, "60min"},
		{16 * time.Second, "16s"},
		{90 * time.Second, "1m30s"},
		{1500 * time.Millisecond, "1.5s"},
		{0, "0s"},
	} {
		if got := durLabel(tc.d); got != tc.want {
			t.Errorf("durLabel(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestCheckpointLine(t *testing.T) {
	base := SmokeSample{Goroutines: 95, FDs: 22, FDsAvailable: true}
	for _, tc := range []struct {
		name string
		cp   SmokeCheckpoint
		want string
	}{
		{"seed first", SmokeCheckpoint{Index: 1, Of: 15, Label: "2min", Elapsed: 2 * time.Minute,
			SmokeSample: SmokeSample{Goroutines: 98, FDs: 22, FDsAvailable: true}},
			"[1/15] 2min: GOR=98 (+3, 1.50/min) FD=22 (+0, 0.00/min)"},
		{"seed last", SmokeCheckpoint{Index: 15, Of: 15, Label: "30min", Elapsed: 30 * time.Minute,
			SmokeSample: SmokeSample{Goroutines: 101, FDs: 23, FDsAvailable: true}},
			"[15/15] 30min: GOR=101 (+6, 0.20/min) FD=23 (+1, 0.03/min)"},
		{"shrinking", SmokeCheckpoint{Index: 2, Of: 4, Label: "8s", Elapsed: 8 * time.Second,
			SmokeSample: SmokeSample{Goroutines: 92, FDs: 21, FDsAvailable: true}},
			"[2/4] 8s: GOR=92 (-3, -22.50/min) FD=21 (-1, -7.50/min)"},
		{"no fd probe", SmokeCheckpoint{Index: 1, Of: 1, Label: "1m30s", Elapsed: 90 * time.Second,
			SmokeSample: SmokeSample{Goroutines: 95}},
			"[1/1] 1m30s: GOR=95 (+0, 0.00/min) FD=n/a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := tc.cp
			cp.derive(base)
			if got := cp.line(); got != tc.want {
				t.Errorf("line() = %q, want %q", got, tc.want)
			}
		})
	}
	if got := rate(-0.001); got != "0.00" {
		t.Errorf("rate(-0.001) = %q, want 0.00 (no negative zero)", got)
	}
	if got := count(math.NaN(), false); got != "n/a" {
		t.Errorf("count(NaN, false) = %q", got)
	}
}

// hostileReport is a finished run whose alert's evidence names a file called <b>x</b>|y, in a
// goroutine's top frame and in a descriptor class, and whose note carries markup.
func hostileReport() SmokeReport {
	t0 := time.Date(2025, 11, 7, 12, 0, 0, 0, time.UTC)
	ev := &Evidence{
		Diagnosis: attribution.Diagnosis{Summary: "files opened under /tmp/<b>x</b>|y", Evidence: []string{"fact *one* | `two`"}},
		Report: &attribution.Report{
			Groups: []attribution.GroupDelta{{Group: attribution.Group{Count: 9, Top: attribution.Frame{Function: "main.<b>x</b>|y", File: "/src/<b>x</b>|y", Line: 7}}, Delta: 9}},
			FDClasses: []attribution.FDClassDelta{
				{FDClass: attribution.FDClass{Kind: attribution.FDFile, Class: "/tmp/<b>x</b>|y", Count: 40}, Delta: 40},
				{FDClass: attribution.FDClass{Kind: attribution.FDTCP, Class: "CLOSE_WAIT to 10.0.0.9:443", Count: 3}, Delta: 3},
			},
		},
	}
	return SmokeReport{
		Status: SmokeFailed, Verdict: "FAIL", Duration: time.Minute, Checkpoint: time.Minute, Started: t0,
		Targets: smokeTargetsFrom(DefaultConfig().Rules, nil),
		Alerts:  []Alert{{Time: t0.Add(30 * time.Second), Series: SeriesFDs, Level: LevelWarning, Reason: "growing", Evidence: ev}},
		Growth:  []SmokeGrowth{{Series: SeriesHeapBytes, Baseline: 1 << 20, Final: 3 << 20, Growth: 2 << 20, RatePerMin: 2 << 20}},
		Notes:   []string{"state file /tmp/<script>alert(1)</script> set aside"},
	}
}

// TestMarkdownEscapesEvidence: Markdown of a run whose evidence names a file called <b>x</b>|y
// renders as text: no tag, no extra table cell.
func TestMarkdownEscapesEvidence(t *testing.T) {
	md := hostileReport().Markdown()
	for _, bad := range []string{"<b>", "</b>", "<script>", "x</b>|y"} {
		if strings.Contains(md, bad) {
			t.Errorf("markdown carries %q unescaped:\n%s", bad, md)
		}
	}
	for _, want := range []string{
		`&lt;b>x&lt;/b>\|y`,                                 // the name, as text
		"| 40 | +40 | file | /tmp/&lt;b>x&lt;/b>\\|y |",     // one cell
		"| 3 | +3 | tcp | CLOSE\\_WAIT | to 10.0.0.9:443 |", // connections by state and peer
		"fact \\*one\\* \\| \\`two\\`",
		"| heap\\_bytes | 1 MiB | 3 MiB | +2 MiB | 2 MiB/min |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// Every table row keeps its number of cells: count the unescaped pipes.
	for _, line := range strings.Split(md, "\n") {
		l := strings.TrimSpace(line)
		if !strings.HasPrefix(l, "| ") || !strings.Contains(l, "x") {
			continue
		}
		cells := len(regexp.MustCompile(`(^|[^\\])\|`).FindAllString(l, -1)) - 1
		if cells != 4 {
			t.Errorf("row %q has %d cells, want 4", l, cells)
		}
	}
}

// TestHTMLEscapesEvidence: the smoke page and the evidence layout escape the same names.
func TestHTMLEscapesEvidence(t *testing.T) {
	b, err := renderSmokePage(hostileReport(), nil, time.Date(2025, 11, 7, 12, 2, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, bad := range []string{"<b>x", "<script>alert"} {
		if strings.Contains(page, bad) {
			t.Errorf("page carries %q unescaped", bad)
		}
	}
	for _, want := range []string{"files opened under /tmp/&lt;b&gt;x&lt;/b&gt;|y", "Connections by state and peer", "CLOSE_WAIT"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestMdEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Goroutine growth <5/min", "Goroutine growth <5/min"},
		{"a <b> & &amp; c", "a &lt;b> & &amp;amp; c"},
		{"x|y_z*[w]`", `x\|y\_z\*\[w\]` + "\\`"},
		{"line\nbreak\x1b[31m", `line break\x1b\[31m`},
	} {
		if got := mdEscape(tc.in); got != tc.want {
			t.Errorf("mdEscape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUnits(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{valueHuman(SeriesHeapBytes, 1047183.23), "1023 KiB"},
		{rateHuman(SeriesHeapBytes, 1047183.23), "1023 KiB/min"},
		{rateHuman(SeriesRSSBytes, 3.5*(1<<20)), "3.5 MiB/min"},
		{valueHuman("http_docker_reuse_ratio", 0.9997749015194147), "100%"},
		{valueHuman("http_docker_reuse_ratio", 0.912345), "91.2%"},
		{rateHuman(SeriesGoroutines, 23.8333), "23.8 goroutines/min"},
		{rateHuman(SeriesFDs, 1.5), "1.5 FDs/min"},
		{rateHuman("http_docker_requests", 120.4), "120/min"},
		{round3(315.12), "315"}, {round3(3.0), "3"}, {round3(-0.001), "0"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if seriesUnit(SeriesGoroutinesCreated) != unitCounter || seriesUnit("http_docker_errors") != unitCounter || seriesUnit("http_docker_idle") != unitCount {
		t.Error("counters and gauges told apart wrongly")
	}
}

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct{ span, want float64 }{{150, 50}, {315.12 - 165.06, 50}, {4, 1}, {0.3, 0.1}, {1200, 500}} { // 0.3/4 rounds up to 0.1
		if got := niceStep(tc.span, 4); got != tc.want {
			t.Errorf("niceStep(%v) = %v, want %v", tc.span, got, tc.want)
		}
	}
}

// TestSmokeChartCoversRun: a run's series cover it whole at any length, in a fixed number of
// columns, also when it outlasts its planned span.
func TestSmokeChartCoversRun(t *testing.T) {
	t0 := time.Date(2025, 11, 7, 12, 0, 0, 0, time.UTC)
	c := newSmokeChart(t0, 30*time.Minute)
	for s := 0; s <= 3*3600; s++ { // three hours at 1s: six times the plan
		f := smokeFigures{goroutines: float64(s % 8), fds: 20, fdsOK: true}
		c.add(t0.Add(time.Duration(s)*time.Second), &f)
	}
	pts := c.points(chartGoroutines)
	if len(pts) > chartBuckets || len(pts) < chartBuckets/2 {
		t.Fatalf("%d columns, want at most %d and more than half", len(pts), chartBuckets)
	}
	if first, last := pts[0].t.Sub(t0), t0.Add(3*time.Hour).Sub(pts[len(pts)-1].t); first > c.width || last > c.width {
		t.Errorf("columns from %v after the start to %v before the end, want within a column (%v)", first, last, c.width)
	}
	for _, p := range pts[:len(pts)-1] {
		if p.lo != 0 || p.hi != 7 || p.mean != 3.5 {
			t.Fatalf("column %+v, want the noise as a band 0..7 around 3.5", p)
		}
	}
}

func TestRegroup(t *testing.T) {
	t0 := time.Date(2025, 11, 7, 12, 0, 0, 0, time.UTC)
	var pts []chartPoint
	for i := range 12 { // one sample per second, alternating 0 and 2
		v := float64(2 * (i % 2))
		pts = append(pts, chartPoint{t: t0.Add(time.Duration(i) * time.Second), mean: v, lo: v, hi: v, n: 1})
	}
	got := regroup(pts, t0, 4*time.Second)
	if len(got) != 3 {
		t.Fatalf("%d columns, want 3", len(got))
	}
	for _, p := range got {
		if p.lo != 0 || p.hi != 2 || p.mean != 1 || p.n != 4 {
			t.Errorf("column %+v, want a band 0..2 around 1 of 4 samples", p)
		}
	}
}

func TestTextSafe(t *testing.T) {
	if got := textSafe("Baseline: GOR=95 FD=22"); got != "Baseline: GOR=95 FD=22" {
		t.Errorf("plain line changed: %q", got)
	}
	if got, want := textSafe("a\x1b[2Jb\rc"), `a\x1b[2Jb\x0dc`; got != want {
		t.Errorf("textSafe = %q, want %q", got, want)
	}
}

// TestSmokePageBounded: a run of many checkpoints renders a page of bounded size.
func TestSmokePageBounded(t *testing.T) {
	t0 := time.Date(2025, 11, 7, 12, 0, 0, 0, time.UTC)
	rep := SmokeReport{Status: SmokeRunning, Duration: 24 * time.Hour, Checkpoint: time.Second, Started: t0,
		BaselineAt: t0, ExpectedEnd: t0.Add(24 * time.Hour), Baseline: &SmokeSample{Time: t0, Goroutines: 10}}
	c := newSmokeChart(t0, 24*time.Hour)
	for i := 1; i <= 20000; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		rep.Checkpoints = append(rep.Checkpoints, SmokeCheckpoint{Index: i, Of: 86400, SmokeSample: SmokeSample{Time: at, Goroutines: 10}})
		rep.Lines = append(rep.Lines, "[x] line")
		c.add(at, &smokeFigures{goroutines: 10})
	}
	b, err := renderSmokePage(rep, c, t0.Add(20000*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 200<<10 {
		t.Errorf("page of a 20000-checkpoint run is %d bytes, want it bounded", len(b))
	}
	if n := strings.Count(string(b), `class="mark"`); n > pageMarks {
		t.Errorf("%d checkpoint marks, want at most %d", n, pageMarks)
	}
	if !strings.Contains(string(b), "19940 earlier checkpoints in the JSON report") || !strings.Contains(string(b), "(19800 earlier lines in ?format=text)") {
		t.Error("the page does not say what it left out")
	}
}
