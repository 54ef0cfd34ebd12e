package watchdog

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The detection corpus scored through the shipped replay: [Replay] with [DefaultConfig], the
// very engine bench/replay runs and the live watchdog drives, by the rules of
// ../shared/detection/score.py. Each set has its own goals; any false alarm, miss,
// over-severity or unresolved leak on a public trace fails the test.

// corpusLabels mirrors NAME.labels.json of the detection corpus.
type corpusLabels struct {
	DurationS float64 `json:"duration_s"`
	Series    map[string]struct {
		Leak        bool     `json:"leak"`
		StartS      float64  `json:"start_s"`
		StopS       *float64 `json:"stop_s"`
		Expect      string   `json:"expect"`
		ExpectFromS float64  `json:"expect_from_s"`
		ExpectMax   string   `json:"expect_max"`
	} `json:"series"`
}

// corpusGoal is what a set of traces must score.
type corpusGoal struct {
	set       string        // directory name under ../shared/detection (and testdata/detection)
	median    float64       // median latency, seconds
	max       float64       // max latency, seconds
	limitTime time.Duration // where a trace has fd_limit: fds critical within this of the first sample at the limit (0: not checked)
}

type levelChange struct {
	t     float64
	level Level
}

type corpusScore struct {
	falseAlarms, missed, over, unresolved, limitLate int
	latencies                                        []float64
}

// corpusDir returns the set's directory: the shared corpus when present, else the copy under
// testdata; "" when neither exists.
func corpusDir(set string) string {
	for _, d := range []string{filepath.Join("..", "..", "shared", "detection", set), filepath.Join("testdata", "detection", set)} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return ""
}

// scoreCorpusSeries applies score.py's rules to one series' level changes.
func scoreCorpusSeries(sc *corpusScore, ev []levelChange, lab corpusLabels, series string) {
	l := lab.Series[series]
	start := math.Inf(-1)
	if l.Leak {
		start = l.StartS
	}
	prev := LevelOK
	for _, e := range ev {
		if prev == LevelOK && e.level != LevelOK && (!l.Leak || e.t < start) {
			sc.falseAlarms++
		}
		prev = e.level
	}
	if !l.Leak {
		return
	}
	want, _ := ParseLevel(l.Expect)
	top, _ := ParseLevel(l.ExpectMax)
	hit, highest := -1.0, LevelOK
	for _, e := range ev {
		if e.t >= start && e.level >= want && hit < 0 {
			hit = e.t
		}
		if e.t >= start {
			highest = max(highest, e.level)
		}
	}
	if hit < 0 {
		sc.missed++
	} else {
		sc.latencies = append(sc.latencies, max(0, hit-l.ExpectFromS))
	}
	if highest > top {
		sc.over++
	}
	if l.StopS != nil && lab.DurationS-*l.StopS > 1800 && len(ev) > 0 && ev[len(ev)-1].level != LevelOK {
		sc.unresolved++
	}
}

// levelAt returns the level in force at time t (seconds) after the changes ev.
func levelAt(ev []levelChange, t float64) Level {
	l := LevelOK
	for _, e := range ev {
		if e.t > t {
			break
		}
		l = e.level
	}
	return l
}

// replayCorpusTrace reads the labels beside the trace f (name.csv, name.labels.json) and
// replays f through the shipped engine with DefaultConfig, returning the trace's name, its
// labels and every series' level changes.
func replayCorpusTrace(t *testing.T, f string) (string, corpusLabels, map[string][]levelChange) {
	t.Helper()
	name := strings.TrimSuffix(filepath.Base(f), ".csv")
	raw, err := os.ReadFile(strings.TrimSuffix(f, ".csv") + ".labels.json")
	if err != nil {
		t.Fatal(err)
	}
	var lab corpusLabels
	if err := json.Unmarshal(raw, &lab); err != nil {
		t.Fatalf("%s labels: %v", name, err)
	}
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	events := map[string][]levelChange{}
	if err := Replay(fh, DefaultConfig(), func(a Alert) {
		events[a.Series] = append(events[a.Series], levelChange{a.Time.Sub(time.Unix(0, 0)).Seconds(), a.Level})
	}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return name, lab, events
}

func scoreCorpus(t *testing.T, g corpusGoal) {
	dir := corpusDir(g.set)
	if dir == "" {
		t.Skipf("no detection corpus: neither ../shared/detection/%s nor testdata/detection/%s exists", g.set, g.set)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	if len(files) == 0 {
		t.Fatalf("no traces under %s", dir)
	}
	var sc corpusScore
	for _, f := range files {
		name, lab, events := replayCorpusTrace(t, f)
		before := sc
		for series := range lab.Series {
			scoreCorpusSeries(&sc, events[series], lab, series)
		}
		if g.limitTime > 0 {
			if at, ok := firstAtLimit(t, f); ok {
				by := at + g.limitTime.Seconds()
				if levelAt(events[SeriesFDs], by) != LevelCritical {
					sc.limitLate++
					t.Errorf("%s: fds at the limit from %.0f s but not critical by %.0f s: %v", name, at, by, events[SeriesFDs])
				}
			}
		}
		if sc.falseAlarms+sc.missed+sc.over+sc.unresolved > before.falseAlarms+before.missed+before.over+before.unresolved {
			t.Errorf("%s: events %v", name, events)
		}
	}
	slices.Sort(sc.latencies)
	med, worst := -1.0, -1.0
	if n := len(sc.latencies); n > 0 {
		med = sc.latencies[n/2]
		if n%2 == 0 {
			med = (sc.latencies[n/2-1] + sc.latencies[n/2]) / 2
		}
		worst = sc.latencies[n-1]
	}
	t.Logf("%s: false_alarms=%d missed=%d leaks=%d median_latency_s=%.0f max_latency_s=%.0f over_severity=%d unresolved=%d",
		dir, sc.falseAlarms, sc.missed, len(sc.latencies)+sc.missed, med, worst, sc.over, sc.unresolved)
	if sc.falseAlarms > 0 || sc.missed > 0 || sc.over > 0 || sc.unresolved > 0 {
		t.Errorf("false alarms %d, missed %d, over-severity %d, unresolved %d; want all 0", sc.falseAlarms, sc.missed, sc.over, sc.unresolved)
	}
	if med > g.median || worst > g.max {
		t.Errorf("latency median %.0f s, max %.0f s; want <= %.0f s and <= %.0f s", med, worst, g.median, g.max)
	}
}

// firstAtLimit returns the time of the first row whose fds reach fd_limit.
func firstAtLimit(t *testing.T, path string) (float64, bool) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	cols := strings.Split(strings.TrimSpace(lines[0]), ",")
	fi, li := slices.Index(cols, SeriesFDs), slices.Index(cols, SeriesFDLimit)
	if fi < 0 || li < 0 {
		return 0, false
	}
	for _, ln := range lines[1:] {
		f := strings.Split(strings.TrimSpace(ln), ",")
		var at, v, lim float64
		if _, err := fmt.Sscan(f[0], &at); err != nil {
			continue
		}
		if _, err := fmt.Sscan(f[fi], &v); err != nil {
			continue
		}
		if _, err := fmt.Sscan(f[li], &lim); err != nil {
			continue
		}
		if lim > 0 && v >= lim {
			return at, true
		}
	}
	return 0, false
}

// TestCorpusTraces scores the public traces: leaks that start after the process, beside
// bursts, warm-ups, sawtooth pools, steps, spikes and diurnal cycles.
func TestCorpusTraces(t *testing.T) {
	scoreCorpus(t, corpusGoal{set: "traces", median: 300, max: 900})
}

// TestCorpusEarly scores the start-of-process traces: start-up fills and bursts that must not
// alarm, and leaks present from the first seconds, one of which reaches the FD limit. Their
// goals are stricter: median latency <= 240 s, max <= 420 s, and fds critical within 15 s of
// the first sample at the limit.
func TestCorpusEarly(t *testing.T) {
	scoreCorpus(t, corpusGoal{set: "early", median: 240, max: 420, limitTime: 15 * time.Second})
}
