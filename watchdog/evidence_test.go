package watchdog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

// leakyProducer sends on a channel nobody reads: the classic goroutine leak.
func leakyProducer(ch chan<- int) { ch <- 1 }

// alertLog holds the alerts a watchdog's handler got. Safe for concurrent use.
type alertLog struct {
	mu  sync.Mutex
	got []Alert
}

func (l *alertLog) add(a Alert) {
	l.mu.Lock()
	l.got = append(l.got, a)
	l.mu.Unlock()
}

// all returns a copy of the alerts so far.
func (l *alertLog) all() []Alert {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.got)
}

// startLogged starts a watchdog with config c and opts whose handler adds every alert to the
// returned log.
func startLogged(t *testing.T, c Config, opts ...Option) (*Watchdog, *alertLog) {
	t.Helper()
	l := new(alertLog)
	w, err := Start(t.Context(), c, append(opts, OnAlert(l.add))...)
	if err != nil {
		t.Fatal(err)
	}
	return w, l
}

// stop stops w and fails the test on its error.
func stop(t *testing.T, w *Watchdog) {
	t.Helper()
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
}

// senders leaks goroutines blocked sending on one channel (leakyProducer). release, run at
// cleanup too, lets every one of them return: nothing may leak past the test.
type senders struct {
	ch chan int
	n  int
}

func newSenders(t *testing.T) *senders {
	s := &senders{ch: make(chan int)}
	t.Cleanup(s.release)
	return s
}

// leak starts n more senders.
func (s *senders) leak(n int) {
	for range n {
		go leakyProducer(s.ch)
	}
	s.n += n
}

// release receives from every sender still blocked.
func (s *senders) release() {
	for ; s.n > 0; s.n-- {
		<-s.ch
	}
}

// fileLeaker creates files leaked-N.log in a directory and keeps them open until cleanup.
type fileLeaker struct {
	t     *testing.T
	dir   string
	files []*os.File
}

func newFileLeaker(t *testing.T, dir string) *fileLeaker {
	l := &fileLeaker{t: t, dir: dir}
	t.Cleanup(func() {
		for _, f := range l.files {
			f.Close()
		}
	})
	return l
}

// leak creates n more files.
func (l *fileLeaker) leak(n int) {
	l.t.Helper()
	for range n {
		f, err := os.Create(filepath.Join(l.dir, fmt.Sprintf("leaked-%d.log", len(l.files))))
		if err != nil {
			l.t.Fatal(err)
		}
		l.files = append(l.files, f)
	}
}

// leakSenders runs, inside a synctest bubble, a watchdog with config c past its warm-up (the
// attribution baseline is taken), leaks 295 goroutines blocked sending (100 at once, then
// 3000/min), stops the watchdog and returns it with the alerts its handler got. The senders
// are released at cleanup.
func leakSenders(t *testing.T, c Config) (*Watchdog, []Alert) {
	t.Helper()
	w, log := startLogged(t, c)
	s := newSenders(t)
	time.Sleep(c.Warmup + c.Interval) // the baseline is taken
	// 100 at once (a step: not judged a leak by itself), then 5 per 100 ms: 3000/min, which the
	// detector calls critical within a few intervals
	s.leak(100)
	time.Sleep(c.Interval)
	for range 39 {
		s.leak(5)
		time.Sleep(c.Interval)
	}
	time.Sleep(c.Interval)
	stop(t, w)
	return w, log.all()
}

func TestAlertCarriesEvidence(t *testing.T) {
	for _, overlap := range []bool{false, true} {
		t.Run(fmt.Sprintf("overlap=%v", overlap), func(t *testing.T) { testAlertCarriesEvidence(t, overlap) })
	}
}

func testAlertCarriesEvidence(t *testing.T, overlap bool) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = 500 * time.Millisecond
		c.Attribution.Overlap = overlap
		w, got := leakSenders(t, c)
		var ev *Evidence
		for _, a := range got {
			if a.Series == SeriesGoroutines && a.Evidence != nil && ev == nil {
				ev = a.Evidence
				if a.Level < LevelWarning {
					t.Errorf("evidence on a %v alert", a.Level)
				}
			}
		}
		if ev == nil {
			t.Fatalf("no alert carried evidence: %v", got)
		}
		if ev.Report == nil || len(ev.Report.Groups) == 0 {
			t.Fatalf("evidence without goroutine groups: %+v", ev)
		}
		g := ev.Report.Groups[0]
		if !strings.HasSuffix(g.Top.Function, "leakyProducer") || !strings.HasSuffix(g.Top.File, "evidence_test.go") || g.Top.Line == 0 {
			t.Errorf("top group's frame = %v, want leakyProducer in evidence_test.go with a line", g.Top)
		}
		if g.Wait != attribution.WaitChanSend || g.Delta < 100 {
			t.Errorf("top group wait %v delta %d, want chan send and >= 100", g.Wait, g.Delta)
		}
		if runtime.GOOS == "linux" && ev.Report.FDs.Current == 0 {
			t.Errorf("evidence without descriptors: %+v", ev.Report.FDs)
		}
		if ev.Diagnosis.Cause != attribution.CauseBlockedChannelSend {
			t.Errorf("diagnosis = %v, want blocked channel send", ev.Diagnosis)
		}
		s := w.Snapshot()
		if s.Attributions == 0 {
			t.Error("snapshot counts no attribution")
		}
		found := false
		for _, a := range s.Alerts {
			found = found || a.Evidence != nil
		}
		if !found {
			t.Error("the snapshot's alerts carry no evidence")
		}
	})
}

// TestAttributionCeiling: above Attribution.MaxGoroutines the stacks are not collected, and the
// evidence says so.
func TestAttributionCeiling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = 500 * time.Millisecond
		c.Attribution.MaxGoroutines = 300
		w, log := startLogged(t, c)
		s := newSenders(t)
		time.Sleep(c.Warmup + c.Interval)
		s.leak(310) // over the ceiling before the early alert, then 6000/min
		time.Sleep(c.Interval)
		for range 39 {
			s.leak(10)
			time.Sleep(c.Interval)
		}
		stop(t, w)
		var ev *Evidence
		for _, a := range log.all() {
			if a.Evidence != nil && ev == nil {
				ev = a.Evidence
			}
		}
		if ev == nil || ev.Report == nil {
			t.Fatalf("no evidence: %+v", ev)
		}
		if len(ev.Report.Groups) != 0 {
			t.Errorf("groups collected above the ceiling: %d", len(ev.Report.Groups))
		}
		notes := strings.Join(ev.Report.Notes, "; ")
		if !strings.Contains(notes, "300") {
			t.Errorf("notes %q do not say the ceiling was passed", notes)
		}
	})
}

// TestAttributionPanicReachesHandlers: a panic in the attribution becomes the evidence's error,
// and the handlers still get the alert.
func TestAttributionPanicReachesHandlers(t *testing.T) {
	testHookAttribute = func() { panic("boom") }
	defer func() { testHookAttribute = nil }()
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = 500 * time.Millisecond
		_, got := leakSenders(t, c)
		for _, a := range got {
			if a.Evidence != nil {
				if !strings.Contains(a.Evidence.Error, "attribution panicked: boom") {
					t.Errorf("evidence error = %q, want the panic", a.Evidence.Error)
				}
				return
			}
		}
		t.Fatalf("no alert reached the handler with evidence: %v", got)
	})
}

// TestEvidenceAnswersItsAlert: an fds alert and a goroutine alert a few seconds apart each carry
// their own series' evidence: the fds alert the leaked files by pattern and a file diagnosis,
// the goroutine alert the blocked senders.
func TestEvidenceAnswersItsAlert(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("descriptors are read from /proc")
	}
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = 500 * time.Millisecond
		w, log := startLogged(t, c)
		s, files := newSenders(t), newFileLeaker(t, dir)
		time.Sleep(c.Warmup + c.Interval)
		for i := range 100 { // 10 s: files from the start (3000/min), goroutines from 5 s on
			files.leak(5)
			if i >= 50 {
				s.leak(5)
			}
			time.Sleep(c.Interval)
		}
		stop(t, w)
		s.release()
		first := map[string]Alert{}
		for _, a := range log.all() {
			if _, seen := first[a.Series]; !seen && a.Level >= LevelWarning {
				first[a.Series] = a
			}
		}
		fa, ga := first[SeriesFDs], first[SeriesGoroutines]
		if fa.Evidence == nil || ga.Evidence == nil {
			t.Fatalf("fds alert %v, goroutine alert %v: want both with evidence", fa, ga)
		}
		if d := ga.Time.Sub(fa.Time); d < time.Second || d > 10*time.Second {
			t.Fatalf("fds alert at %v, goroutine alert at %v: want them seconds apart", fa.Time, ga.Time)
		}
		fe, ge := fa.Evidence, ga.Evidence
		if fe.AlertID != fa.ID || fe.Series != SeriesFDs || fe.Kind != EvidenceDescriptors || fe.Skipped != "" {
			t.Errorf("fds alert %d: evidence for alert %d of %s, kind %v, skipped %q", fa.ID, fe.AlertID, fe.Series, fe.Kind, fe.Skipped)
		}
		if len(fe.Descriptors) == 0 || fe.Descriptors[0].Pattern != filepath.Join(dir, "leaked-*.log") || fe.Descriptors[0].Kind != attribution.FDFile {
			t.Errorf("fds evidence: open now %v, want %s first", fe.Descriptors, filepath.Join(dir, "leaked-*.log"))
		}
		if fe.Diagnosis.Cause != attribution.CauseFileNotClosed || !strings.Contains(fe.Diagnosis.Summary, dir) {
			t.Errorf("fds diagnosis = %v, want files not closed in %s", fe.Diagnosis, dir)
		}
		if ge.AlertID != ga.ID || ge.Series != SeriesGoroutines || ge.Kind != EvidenceGoroutines || ge.Skipped != "" {
			t.Errorf("goroutine alert %d: evidence for alert %d of %s, kind %v, skipped %q", ga.ID, ge.AlertID, ge.Series, ge.Kind, ge.Skipped)
		}
		if ge.Diagnosis.Cause != attribution.CauseBlockedChannelSend {
			t.Errorf("goroutine diagnosis = %v, want blocked channel send", ge.Diagnosis)
		}
		if ge.Report == nil || len(ge.Report.Groups) == 0 || !strings.HasSuffix(ge.Report.Groups[0].Top.Function, "leakyProducer") {
			t.Errorf("goroutine evidence groups: %+v", ge.Report)
		}
		// The snapshot's copies carry the same evidence, attached by ID.
		for _, a := range w.Snapshot().Alerts {
			if (a.ID == fa.ID || a.ID == ga.ID) && (a.Evidence == nil || a.Evidence.AlertID != a.ID) {
				t.Errorf("snapshot alert %d has evidence %+v", a.ID, a.Evidence)
			}
		}
	})
}

// TestAttributionConfigZero: every zero field of AttributionConfig means its default, so that
// AttributionConfig{DumpDir: d} keeps the 10-minute cooldown and the 20-file bound.
func TestAttributionConfigZero(t *testing.T) {
	got := AttributionConfig{DumpDir: "d"}.withDefaults()
	want := DefaultAttributionConfig()
	want.DumpDir = "d"
	if got != want {
		t.Errorf("AttributionConfig{DumpDir: d} means %+v, want %+v", got, want)
	}
	if attribution.DefaultDumpFiles != want.DumpMaxFiles || attribution.DefaultDumpBytes != want.DumpMaxBytes {
		t.Errorf("attribution's dump defaults %d files, %d bytes; the watchdog's %d, %d",
			attribution.DefaultDumpFiles, attribution.DefaultDumpBytes, want.DumpMaxFiles, want.DumpMaxBytes)
	}
	a := newAttributor(AttributionConfig{DumpDir: t.TempDir()}, "")
	defer a.close()
	if a.cfg.Cooldown != 10*time.Minute || a.dumper.MaxFiles != 20 {
		t.Errorf("attributor from a zero config: cooldown %v, dump files %d", a.cfg.Cooldown, a.dumper.MaxFiles)
	}
	var p problems
	AttributionConfig{Cooldown: -1, MaxGoroutines: -1, DumpMaxFiles: -1, DumpMaxBytes: -1}.validate(&p)
	for _, f := range []string{"Cooldown", "MaxGoroutines", "DumpMaxFiles", "DumpMaxBytes"} {
		if !strings.Contains(strings.Join(p, "\n"), "Attribution."+f) {
			t.Errorf("no error names Attribution.%s: %q", f, p)
		}
	}
}

// TestResidueNotice: a burst of 400 goroutines blocked forever (a handler bug hit for 20 s),
// with Window 30s and Warmup 10s. Once the growth stops, the resolution says how many remain
// above the baseline and where, and a residue notice names them and stands until they are
// gone; releasing them resolves it.
func TestResidueNotice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Window = 30 * time.Second
		c.Warmup = 10 * time.Second
		w, log := startLogged(t, c)
		alerts := log.all
		s := newSenders(t)
		time.Sleep(12 * time.Second)
		for range 200 { // 400 in 20 s
			s.leak(2)
			time.Sleep(c.Interval)
		}
		time.Sleep(5 * time.Minute)
		var notice *Alert
		var resolution *Alert
		for _, a := range alerts() {
			switch {
			case a.Series == SeriesGoroutines && a.Cause == CauseResidue && a.Level == LevelNotice && notice == nil:
				notice = &a
			case a.Series == SeriesGoroutines && a.Level == LevelOK && a.Previous >= LevelWarning && resolution == nil:
				resolution = &a
			}
		}
		if notice == nil {
			t.Fatalf("no residue notice after the burst: %v", alerts())
		}
		if !strings.Contains(notice.Reason, "leakyProducer") || !strings.Contains(notice.Reason, "+400") {
			t.Errorf("residue notice %q does not name the 400 senders", notice.Reason)
		}
		if ev := notice.Evidence; ev == nil || ev.Residue == nil || len(ev.Residue.Stuck) == 0 || ev.Residue.Stuck[0].Delta != 400 {
			t.Errorf("residue notice evidence %+v, want the 400 stuck senders", notice.Evidence)
		}
		if resolution != nil { // the detector saw the burst as growth: its resolution says what remains
			// (The residue's total is process-wide; the group is the bubble's own.)
			if ev := resolution.Evidence; ev == nil || ev.Residue == nil || len(ev.Residue.Groups) == 0 ||
				ev.Residue.Groups[0].Delta != 400 || !strings.Contains(ev.Residue.Summary, "leakyProducer") {
				t.Errorf("resolution %v: evidence %v, want a residue of 400 in leakyProducer", resolution, resolution.Evidence)
			}
		}
		for _, a := range alerts() {
			t.Logf("%d %v %v %v evidence=%v", a.ID, a.Time.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)), a, a.Cause, a.Evidence)
		}
		n := len(alerts())
		s.release()
		time.Sleep(2 * time.Minute)
		var gone bool
		for _, a := range alerts()[n:] {
			if a.Series == SeriesGoroutines && a.Previous == LevelNotice && a.Level == LevelOK && strings.Contains(a.Reason, "gone") {
				gone = true
			}
		}
		if !gone {
			t.Errorf("no resolution of the residue notice after the senders returned: %v", alerts()[n:])
		}
		stop(t, w)
	})
}

// firstEvidence returns the evidence of the first alert on series at warning or above that has a
// snapshot.
func firstEvidence(t *testing.T, got []Alert, series string) *Evidence {
	t.Helper()
	for _, a := range got {
		if a.Series == series && a.Level >= LevelWarning && a.Evidence != nil && a.Evidence.Report != nil {
			return a.Evidence
		}
	}
	t.Fatalf("no %s alert with a snapshot: %v", series, got)
	return nil
}

// TestBaselineFromStart: a leak present from the first moment shows its full growth in the
// evidence: the baseline is taken at Start, not after the warm-up, and not refreshed since a
// series left ok within a Window after the warm-up.
func TestBaselineFromStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = 2 * time.Second
		w, log := startLogged(t, c)
		s := newSenders(t)
		time.Sleep(time.Millisecond) // the first tick: the baseline is queued
		for range 80 {               // 3000/min from the start, through the warm-up and beyond
			s.leak(5)
			time.Sleep(c.Interval)
		}
		stop(t, w)
		got := log.all()
		ev := firstEvidence(t, got, SeriesGoroutines)
		g := ev.Report.Groups[0]
		if !strings.HasSuffix(g.Top.Function, "leakyProducer") || g.Base != 0 || g.Delta != g.Count {
			t.Errorf("top group %s: count %d, base %d, delta %d; want leakyProducer counted from 0", g.Top, g.Count, g.Base, g.Delta)
		}
		// Base 0 is the proof that the baseline predates the leak. A leak this fast may be
		// judged before the warm-up ends (the early rule); when its snapshot came after the
		// warm-up, it must also count what leaked during it.
		var at time.Time
		for _, a := range got {
			if a.Evidence == ev {
				at = a.Time
			}
		}
		if warmupLeak := int(c.Warmup/c.Interval) * 5; at.Sub(w.started) > c.Warmup && g.Delta <= warmupLeak {
			t.Errorf("delta %d, want more than the %d leaked during the warm-up", g.Delta, warmupLeak)
		}
	})
}

// TestBaselineRefreshedAfterFill: a start-up fill (goroutines started during the warm-up that
// stay) with every series at ok a Window after the warm-up: the baseline is refreshed then, and
// a later leak's evidence does not count the fill as growth.
func TestBaselineRefreshedAfterFill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = 2 * time.Second
		w, log := startLogged(t, c)
		fill, leak := make(chan int), newSenders(t)
		defer close(fill)
		time.Sleep(500 * time.Millisecond)
		for range 40 { // a pool of 40 workers at start-up
			go func() { <-fill }()
		}
		time.Sleep(c.Warmup + c.Window + time.Second) // refreshed, the fill inside the baseline
		for range 40 {
			leak.leak(5)
			time.Sleep(c.Interval)
		}
		stop(t, w)
		got := log.all()
		for _, a := range got {
			if a.Level > LevelOK && a.Time.Sub(w.started) < c.Warmup+c.Window {
				t.Fatalf("alert before the refresh: %v", a)
			}
		}
		ev := firstEvidence(t, got, SeriesGoroutines)
		for _, g := range ev.Report.Groups {
			if g.Wait == attribution.WaitChanReceive && g.Delta > 0 {
				t.Errorf("the start-up fill counts as growth: %+d %s", g.Delta, g.Top)
			}
		}
		if g := ev.Report.Groups[0]; !strings.HasSuffix(g.Top.Function, "leakyProducer") {
			t.Errorf("top group %s, want the leak", g.Top)
		}
	})
}

// TestNoEvidenceSaysWhy: with attribution disabled, a warning still carries evidence, saying
// why it has no snapshot, in the handler's copy and the snapshot's; a notice carries none.
func TestNoEvidenceSaysWhy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Attribution = AttributionConfig{Disabled: true}
		c.Rules["a"] = Rule{OnIncrease: LevelWarning}
		c.Rules["b"] = Rule{OnIncrease: LevelNotice}
		var a, b atomic.Int64
		w, log := startLogged(t, c,
			WithGauge("a", func() float64 { return float64(a.Load()) }),
			WithGauge("b", func() float64 { return float64(b.Load()) }))
		time.Sleep(time.Second)
		a.Add(1)
		b.Add(1)
		time.Sleep(time.Second)
		stop(t, w)
		seen := 0
		for _, al := range append(log.all(), w.Snapshot().Alerts...) {
			switch {
			case al.Series == "a" && al.Level == LevelWarning:
				seen++
				if e := al.Evidence; e == nil || e.AlertID != al.ID || !strings.Contains(e.Skipped, "disabled") || e.Report != nil {
					t.Errorf("warning %v: evidence %+v, want none, saying attribution is disabled", al, e)
				}
			case al.Series == "b" && al.Evidence != nil:
				t.Errorf("notice %v carries evidence %+v", al, al.Evidence)
			}
		}
		if seen != 2 {
			t.Errorf("saw the warning on a %d times (handler and snapshot), want 2", seen)
		}
	})
}

// TestFDResidueOnResolution: files leaked for a while, then no more: when the fds series
// resolves, its evidence says how many descriptors remain above the baseline and where.
func TestFDResidueOnResolution(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("descriptors are read from /proc")
	}
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		w, log := startLogged(t, c)
		files := newFileLeaker(t, dir)
		time.Sleep(time.Second)
		for range 40 { // 4 s at 3000/min, then none
			files.leak(5)
			time.Sleep(c.Interval)
		}
		time.Sleep(time.Minute)
		stop(t, w)
		got := log.all()
		for _, a := range got {
			if a.Series != SeriesFDs || a.Level != LevelOK || a.Previous < LevelWarning {
				continue
			}
			ev := a.Evidence
			if ev == nil || ev.Residue == nil || len(ev.Residue.FDClasses) == 0 {
				t.Fatalf("resolution %v: evidence %+v, want a residue", a, ev)
			}
			fc := ev.Residue.FDClasses[0]
			if fc.Class != dir || fc.Delta != len(files.files) || !strings.Contains(ev.Residue.Summary, dir) {
				t.Errorf("residue %q, top class %+v: want %d files in %s", ev.Residue.Summary, fc, len(files.files), dir)
			}
			return
		}
		t.Fatalf("no resolution of fds from warning or above: %v", got)
	})
}

// TestEvidenceJSON: evidence encodes with snake_case names and its kind as a word.
func TestEvidenceJSON(t *testing.T) {
	ev := &Evidence{AlertID: 7, Series: SeriesFDs, Kind: EvidenceDescriptors,
		Descriptors: []attribution.FDPattern{{Kind: attribution.FDFile, Pattern: "/d/leaked-*.log", Count: 940}},
		Connections: []attribution.ConnGroup{{Kind: attribution.FDTCP, Peer: "10.0.0.9:443", State: "CLOSE_WAIT", Count: 3}},
		Pool:        &attribution.PoolStats{Name: "api", Open: 3},
		Residue:     &Residue{FDs: 940, Summary: "940 descriptors remain above the baseline"},
		DumpError:   "not written: no file descriptor left to write the dump",
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"alert_id":7`, `"series":"fds"`, `"kind":"descriptors"`, `"pattern":"/d/leaked-*.log"`,
		`"peer":"10.0.0.9:443"`, `"state":"CLOSE_WAIT"`, `"pool":{"name":"api"`, `"residue":{"goroutines":0,"fds":940`, `"dump_error":"not written`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	if s := ev.String(); !strings.Contains(s, "open now: /d/leaked-*.log: 940 regular files") || !strings.Contains(s, "residue: 940") {
		t.Errorf("String() = %q", s)
	}
	if s := (&Evidence{Skipped: "within its cooldown"}).String(); s != "no evidence: within its cooldown" {
		t.Errorf("skipped String() = %q", s)
	}
}

// TestDiagnoseFor: a report where goroutines blocked on a send and files both grew is
// diagnosed for each kind of evidence by the cause that explains it; the other is kept as a fact.
func TestDiagnoseFor(t *testing.T) {
	top := attribution.Frame{Function: "main.produce", File: "/src/main.go", Line: 12}
	r := &attribution.Report{
		Goroutines: attribution.CountDelta{Base: 10, Current: 510, Delta: 500},
		// No frames: the diagnosis then goes by the wait kind (a stack with frames must be
		// a real parked one, runtime.gopark first, which a hand-made one is not).
		Groups:    []attribution.GroupDelta{{Group: attribution.Group{Key: "k", Count: 500, Wait: attribution.WaitChanSend, Top: top}, Delta: 500}},
		FDs:       attribution.CountDelta{Base: 10, Current: 60, Delta: 50},
		FDClasses: []attribution.FDClassDelta{{FDClass: attribution.FDClass{Kind: attribution.FDFile, Class: "/var/log/x", Count: 50}, Delta: 50}},
	}
	for _, c := range []struct {
		kind EvidenceKind
		not  attribution.Cause
		want attribution.Cause
	}{
		{EvidenceGoroutines, attribution.CauseFileNotClosed, attribution.CauseBlockedChannelSend},
		{EvidenceDescriptors, attribution.CauseBlockedChannelSend, attribution.CauseFileNotClosed},
		{EvidenceConnections, attribution.CauseBlockedChannelSend, attribution.CauseUnknown},
	} {
		d := diagnoseFor(c.kind, r, attribution.Context{})
		if d.Cause != c.want || d.Cause == c.not {
			t.Errorf("%v evidence: cause %v, want %v: %v", c.kind, d.Cause, c.want, d)
		}
		if c.kind != EvidenceGoroutines && !strings.Contains(strings.Join(d.Evidence, "\n"), "also seen") {
			t.Errorf("%v evidence: the cause set aside is not kept as a fact: %v", c.kind, d)
		}
	}
}

// TestAttributionEscalation: a series that went warning (a snapshot) and critical a second
// later gets a snapshot of its own for the critical alert, whatever the cooldown; within the
// cooldown, a later alert of the same or a lower level gets none and says so, naming the
// critical alert's snapshot.
func TestAttributionEscalation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = 200 * time.Millisecond
		c.Attribution.Cooldown = time.Hour
		// warning while a rises, critical while it is under 1
		c.Rules["a"] = Rule{OnIncrease: LevelWarning, Below: 1, BelowLevel: LevelCritical}
		var a atomic.Int64
		a.Store(5)
		var mu sync.Mutex
		var got []Alert
		w, err := Start(t.Context(), c,
			WithGauge("a", func() float64 { return float64(a.Load()) }),
			OnAlert(func(al Alert) {
				if al.Series == "a" {
					mu.Lock()
					got = append(got, al)
					mu.Unlock()
				}
			}))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		a.Store(6) // warning: a snapshot
		time.Sleep(time.Second)
		a.Store(0) // critical a second later: the escalation's own snapshot
		time.Sleep(time.Second)
		a.Store(5) // back to warning (an increase), then ok: no snapshot
		time.Sleep(6 * time.Second)
		a.Store(0) // critical again, within the cooldown of the last critical: no snapshot
		time.Sleep(2 * time.Second)
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		var raised []Alert
		for _, al := range got {
			if al.Level >= LevelWarning {
				raised = append(raised, al)
			}
		}
		if len(raised) < 4 || raised[0].Level != LevelWarning || raised[1].Level != LevelCritical ||
			raised[len(raised)-1].Level != LevelCritical {
			t.Fatalf("alerts on a at warning or above: %v; want warning, critical, ..., critical", raised)
		}
		for i, al := range raised {
			if e := al.Evidence; e == nil || e.AlertID != al.ID || e.Series != "a" {
				t.Fatalf("alert %d (%v) has evidence %+v, want evidence for its own ID and series", i, al, e)
			}
		}
		if e := raised[0].Evidence; e.Skipped != "" || e.Report == nil {
			t.Errorf("warning %v: evidence %v, want a snapshot", raised[0], e)
		}
		if e := raised[1].Evidence; e.Skipped != "" || e.Report == nil {
			t.Errorf("critical %v a second after the warning: evidence %v, want a snapshot of its own", raised[1], e)
		}
		for _, al := range raised[2:] {
			if e := al.Evidence; e.Report != nil || !strings.Contains(e.Skipped, "cooldown") ||
				!strings.Contains(e.Skipped, fmt.Sprintf("alert %d (critical)", raised[1].ID)) {
				t.Errorf("%v within the cooldown: evidence %+v, want none, skipped naming critical alert %d", al, e, raised[1].ID)
			}
		}
		if s := w.Snapshot(); s.Attributions != 2 {
			t.Errorf("Snapshot().Attributions = %d, want 2", s.Attributions)
		}
	})
}

// TestEvidenceQueueFullSaysWhy: an alert due a snapshot when the queue to the attribution
// goroutine is full (Config.AlertQueue) gets none, and says so, in the snapshot and in the log.
func TestEvidenceQueueFullSaysWhy(t *testing.T) {
	defer func() { testHookAttribute = nil }()
	synctest.Test(t, func(t *testing.T) {
		hold := make(chan struct{}) // of the bubble: the attribution goroutine blocked on it is durably blocked
		testHookAttribute = func() { <-hold }
		c := fastConfig()
		c.AlertQueue = 1
		core, logs := observer.New(zapcore.InfoLevel)
		var gauges [3]atomic.Int64
		opts := []Option{WithLogger(zap.New(core))}
		for i, name := range []string{"a", "b", "c"} {
			c.Rules[name] = Rule{OnIncrease: LevelWarning}
			opts = append(opts, WithGauge(name, func() float64 { return float64(gauges[i].Load()) }))
		}
		w, err := Start(t.Context(), c, opts...)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the baseline is taken
		for i := range gauges { // a's snapshot holds the attribution goroutine, b's waits in the queue, c's finds it full
			gauges[i].Add(1)
			time.Sleep(2 * time.Second)
		}
		close(hold)
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		var ca *Alert
		for _, al := range w.Snapshot().Alerts {
			if al.Series == "c" && al.Level == LevelWarning {
				ca = &al
			}
		}
		if ca == nil {
			t.Fatalf("no warning on c in the snapshot: %v", w.Snapshot().Alerts)
		}
		if e := ca.Evidence; e == nil || e.AlertID != ca.ID || e.Report != nil || !strings.Contains(e.Skipped, "queue") ||
			!strings.Contains(e.Skipped, "full") {
			t.Fatalf("warning on c: evidence %+v, want none, saying the queue was full", ca.Evidence)
		}
		logged := false
		for _, e := range logs.All() {
			m := e.ContextMap()
			if ev, _ := m["evidence"].(map[string]any); m["alert_id"] == ca.ID && ev != nil {
				logged = logged || strings.Contains(fmt.Sprint(ev["skipped"]), "full")
			}
		}
		if !logged {
			t.Errorf("the log does not say why warning %d on c has no evidence: %v", ca.ID, logs.All())
		}
	})
}
