package trend

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// labels mirrors NAME.labels.json of the detection corpus.
type labels struct {
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

type change struct {
	t     float64
	level Level
}

// score is the outcome of scoring every public trace, by the rules of score.py.
type score struct {
	falseAlarms, missed, over, unresolved int
	latencies                             []float64
}

func levelOf(s string) Level {
	for l := OK; l <= Critical; l++ {
		if l.String() == s {
			return l
		}
	}
	return OK
}

// scoreSeries applies score.py's rules to one series' level changes.
func scoreSeries(sc *score, name string, ev []change, lab labels, series string) {
	l := lab.Series[series]
	start := -1.0
	if l.Leak {
		start = l.StartS
	}
	prev := OK
	for _, e := range ev {
		if prev == OK && e.level != OK && (start < 0 || e.t < start) {
			sc.falseAlarms++
		}
		prev = e.level
	}
	if !l.Leak {
		return
	}
	want := levelOf(l.Expect)
	hit, top := -1.0, OK
	for _, e := range ev {
		if e.t >= start && e.level >= want && hit < 0 {
			hit = e.t
		}
		if e.t >= start && e.level > top {
			top = e.level
		}
	}
	if hit < 0 {
		sc.missed++
	} else {
		sc.latencies = append(sc.latencies, max(0, hit-l.ExpectFromS))
	}
	if top > levelOf(l.ExpectMax) {
		sc.over++
	}
	if l.StopS != nil && lab.DurationS-*l.StopS > 1800 && len(ev) > 0 && ev[len(ev)-1].level != OK {
		sc.unresolved++
	}
}

// TestPublicTraces replays copies of the public detection traces with DefaultParams and the
// default rules and fails if the score is worse than the project's goal: no false alarm, no
// miss, no over-severity, every fixed leak resolved, median latency <= 300 s, max <= 900 s.
func TestPublicTraces(t *testing.T) {
	files, _ := filepath.Glob("testdata/traces/*.csv")
	if len(files) == 0 {
		t.Fatal("no traces under testdata/traces")
	}
	var sc score
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".csv")
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := ReadCSV(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw, err := os.ReadFile(strings.TrimSuffix(f, ".csv") + ".labels.json")
		if err != nil {
			t.Fatal(err)
		}
		var lab labels
		if err := json.Unmarshal(raw, &lab); err != nil {
			t.Fatalf("%s labels: %v", name, err)
		}
		events := map[string][]change{}
		err = Replay(tr, DefaultParams(), func(series string, at float64, v Verdict) error {
			events[series] = append(events[series], change{at, v.Level})
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		before := sc
		for series := range lab.Series {
			scoreSeries(&sc, name, events[series], lab, series)
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
	t.Logf("false_alarms=%d missed=%d over_severity=%d unresolved=%d median_latency_s=%.0f max_latency_s=%.0f",
		sc.falseAlarms, sc.missed, sc.over, sc.unresolved, med, worst)
	if sc.falseAlarms > 0 || sc.missed > 0 || sc.over > 0 || sc.unresolved > 0 {
		t.Errorf("false alarms %d, missed %d, over-severity %d, unresolved %d; want all 0", sc.falseAlarms, sc.missed, sc.over, sc.unresolved)
	}
	if med > 300 || worst > 900 {
		t.Errorf("latency median %.0f s, max %.0f s; want <= 300 s and <= 900 s", med, worst)
	}
}
