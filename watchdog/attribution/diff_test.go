package attribution

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSelfGoroutineLeftOut(t *testing.T) {
	s := take(t, Options{})
	for _, g := range s.Groups {
		if g.HasFunction(selfFunc) {
			t.Errorf("snapshot holds its own goroutine: %s", g.Key)
		}
	}
	if !strings.HasSuffix(selfFunc, "watchdog/attribution.goroutineRecords") {
		t.Errorf("selfFunc = %q", selfFunc)
	}
	if !strings.HasSuffix(asideFunc, "watchdog/attribution.takeFDsAside") {
		t.Errorf("asideFunc = %q", asideFunc)
	}
}

// TestOverlap holds the goroutine that reads the descriptors (Overlap)
// while the profile is taken: the snapshot has both parts, and that
// goroutine is not among the groups. Without Overlap, no goroutine is
// started.
func TestOverlap(t *testing.T) {
	procs := max(2, runtime.GOMAXPROCS(0))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	aside := 0
	testHookFDs = func(a bool) {
		if a {
			aside++
			time.Sleep(100 * time.Millisecond) // the profile of a test binary takes well under that
		}
	}
	defer func() { testHookFDs = nil }()

	o := DefaultOptions()
	if s := take(t, o); aside != 0 || s.FDs == nil {
		t.Fatalf("without Overlap: descriptors read aside %d times, table %v", aside, s.FDs != nil)
	}
	o.Overlap = true
	s := take(t, o)
	if aside != 1 {
		t.Fatalf("descriptors read aside %d times with Overlap, want 1", aside)
	}
	if s.FDs == nil || s.FDs.Total == 0 || !s.Grouped || len(s.Groups) == 0 {
		t.Fatalf("snapshot lacks a part: fds %+v, grouped %v, notes %q", s.FDs, s.Grouped, s.Notes)
	}
	if s.Cost.Total < 100*time.Millisecond {
		t.Errorf("Take returned after %v, before the descriptor part (held 100ms)", s.Cost.Total)
	}
	for _, g := range s.Groups {
		if g.HasFunction(asideFunc) || g.HasFunction(selfFunc) {
			t.Errorf("snapshot holds its own goroutine: %s", g.Key)
		}
		if g.Top.Function == "runtime.goexit" { // profiled before it started
			t.Errorf("snapshot holds %d goroutine(s) not started", g.Count)
		}
	}
}

func snap(t0 time.Time, groups []Group, fds *FDTable) *Snapshot {
	n := 0
	for _, g := range groups {
		n += g.Count
	}
	return &Snapshot{Time: t0, Goroutines: n, Grouped: true, Groups: groups, FDs: fds, Top: 2}
}

func TestDiff(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := Group{Key: "a", Count: 5, Wait: WaitChanSend}
	b := Group{Key: "b", Count: 1, Wait: WaitSelect}
	c := Group{Key: "c", Count: 3, Wait: WaitIO}
	base := snap(t0, []Group{a, b, c}, &FDTable{Total: 10, Classes: []FDClass{{FDFile, "/x", 4}}, TCPStates: map[string]int{"ESTABLISHED": 2}})
	a2, b2, c2 := a, b, c
	a2.Count, b2.Count, c2.Count = 6, 9, 1
	d := Group{Key: "d", Count: 2, Leaked: 2, Wait: WaitChanReceive}
	cw := make([]FD, 6)
	for i := range cw {
		cw[i] = FD{Kind: FDTCP, State: TCPCloseWait, Remote: netip.MustParseAddrPort("10.0.0.9:443")}
	}
	cur := snap(t0.Add(time.Minute), []Group{b2, a2, d, c2}, &FDTable{
		Total: 20, Classes: []FDClass{{FDFile, "/x", 7}, {FDFile, "/y", 2}, {FDPipe, "pipe", 1}},
		TCPStates:         map[string]int{"CLOSE_WAIT": 6},
		NamespaceTimeWait: 150, TimeWaitByPeer: map[string]int{"10.0.0.9:443": 150},
		Entries: cw,
	})
	r := Diff(base, cur)
	var keys []string
	for _, g := range r.Groups {
		keys = append(keys, g.Key)
	}
	// Top is 2: b (+8) then d (+2, leaked) before a (+1); c shrank.
	if got := strings.Join(keys, ","); got != "b,d" {
		t.Errorf("groups = %s, want b,d", got)
	}
	if r.Groups[0].Base != 1 || r.Groups[0].Delta != 8 {
		t.Errorf("b: base %d delta %d, want 1, 8", r.Groups[0].Base, r.Groups[0].Delta)
	}
	if r.FDs != (CountDelta{10, 20, 10}) {
		t.Errorf("fds = %+v", r.FDs)
	}
	if len(r.FDClasses) != 2 || r.FDClasses[0].Class != "/x" || r.FDClasses[0].Delta != 3 || r.FDClasses[1].Class != "/y" {
		t.Errorf("fd classes = %+v, want /x +3, /y +2", r.FDClasses)
	}
	if r.TCPStates["CLOSE_WAIT"] != (CountDelta{0, 6, 6}) || r.TCPStates["ESTABLISHED"] != (CountDelta{2, 0, -2}) {
		t.Errorf("tcp states = %+v", r.TCPStates)
	}
	if len(r.Callouts) != 2 || !strings.Contains(r.Callouts[0], "6 sockets in CLOSE_WAIT (+6 since baseline), peers 10.0.0.9:443 (6)") ||
		!strings.Contains(r.Callouts[1], "150 sockets in TIME_WAIT") {
		t.Errorf("callouts = %q", r.Callouts)
	}
	txt := r.String()
	for _, want := range []string{"goroutines 18 (+9), fds 20 (+10)", "| 9 | +8 | 0 | select |", "| 7 | +3 | file | /x |", "CLOSE_WAIT=6 (+6)"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text misses %q:\n%s", want, txt)
		}
	}
	// No baseline: everything counts.
	if r := Diff(nil, cur); len(r.Groups) != 2 || r.Groups[0].Delta != 9 {
		t.Errorf("Diff(nil) groups = %+v", r.Groups)
	}
}

// TestJSONTags checks that every exported field of every exported struct
// in the report and diagnosis has a snake_case JSON tag.
func TestJSONTags(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var check func(reflect.Type)
	check = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.PkgPath() != reflect.TypeFor[Report]().PkgPath() {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Anonymous {
				check(f.Type)
				continue
			}
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "" || (tag != "-" && strings.ToLower(tag) != tag) {
				t.Errorf("%s.%s: json tag %q, want snake_case", typ.Name(), f.Name, tag)
			}
			check(f.Type)
		}
	}
	for _, v := range []any{Report{}, Snapshot{}, Diagnosis{}, Context{}, Options{}} {
		check(reflect.TypeOf(v))
	}
	b, err := json.Marshal(Diff(nil, take(t, DefaultOptions())))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"wait":"`) {
		t.Errorf("json wait kind not text: %.300s", b)
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	r := &Report{
		Groups:    []GroupDelta{{Group: Group{Key: "k", Count: 3, Wait: WaitSelect, Top: Frame{"main.f", "f.go", 3}}, Delta: 2}},
		FDClasses: []FDClassDelta{{FDClass: FDClass{FDTCP, "CLOSE_WAIT to 10.0.0.9:443", 6}, Delta: 6}},
		TCPStates: map[string]CountDelta{"CLOSE_WAIT": {0, 6, 6}},
	}
	d := Diagnose(r, Context{})
	b, err := json.Marshal(struct {
		R *Report
		D Diagnosis
		S TCPState
	}{r, d, TCPCloseWait})
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		R *Report
		D Diagnosis
		S TCPState
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !reflect.DeepEqual(back.R, r) || !reflect.DeepEqual(back.D, d) || back.S != TCPCloseWait {
		t.Errorf("round trip:\n%+v\n%+v\nwant\n%+v\n%+v", back.R, back.D, r, d)
	}
}

// TestFDPanicContained: a panic while reading the descriptors becomes the
// part's error, whether it runs on Take's goroutine or on its own (where
// it would otherwise end the process); the goroutine part is kept.
func TestFDPanicContained(t *testing.T) {
	procs := max(2, runtime.GOMAXPROCS(0))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	testHookFDs = func(bool) { panic("boom") }
	defer func() { testHookFDs = nil }()
	for _, overlap := range []bool{false, true} {
		o := DefaultOptions()
		o.Overlap = overlap
		s, err := Take(o)
		if err != nil {
			t.Fatalf("overlap=%v: Take: %v", overlap, err)
		}
		if s.FDs != nil || !s.Grouped || len(s.Groups) == 0 {
			t.Errorf("overlap=%v: fds %v, grouped %v: want no descriptors and the groups", overlap, s.FDs != nil, s.Grouped)
		}
		if len(s.Notes) == 0 || !strings.Contains(s.Notes[0], "reading the descriptors panicked: boom") {
			t.Errorf("overlap=%v: notes %q, want the panic first", overlap, s.Notes)
		}
	}
}

// TestCountsBaseline: a baseline reduced to its counts diffs like the full snapshot, and keeps
// no stacks or descriptor entries.
func TestCountsBaseline(t *testing.T) {
	base := take(t, DefaultOptions())
	stop := make(chan struct{})
	done := make(chan struct{})
	var started sync.WaitGroup
	started.Add(20)
	for range 20 {
		go func() { started.Done(); <-stop; done <- struct{}{} }()
	}
	started.Wait() // each has run: its top frame is its function, parked yet or not
	defer func() {
		close(stop)
		for range 20 {
			<-done
		}
	}()
	cur := take(t, DefaultOptions())
	c := base.Counts()
	for _, g := range c.Groups {
		if len(g.Frames) != 0 {
			t.Fatalf("Counts kept %d frames of %s", len(g.Frames), g.Key)
		}
	}
	if c.FDs != nil && c.FDs.Entries != nil {
		t.Errorf("Counts kept %d descriptor entries", len(c.FDs.Entries))
	}
	if base.FDs != nil && len(base.FDs.Entries) == 0 && base.FDs.Total > 0 {
		t.Error("Counts changed the snapshot it was called on")
	}
	full, reduced := Diff(base, cur), Diff(c, cur)
	if !reflect.DeepEqual(full.Groups, reduced.Groups) || !reflect.DeepEqual(full.FDClasses, reduced.FDClasses) ||
		full.Goroutines != reduced.Goroutines || full.FDs != reduced.FDs {
		t.Errorf("diff against Counts differs:\nfull    %+v\nreduced %+v", full, reduced)
	}
	ours := 0
	for _, g := range reduced.Groups {
		if strings.HasSuffix(g.Top.Function, "TestCountsBaseline.func1") {
			ours += g.Delta
		}
	}
	if ours != 20 {
		t.Errorf("the 20 goroutines started show as %+d: %+v", ours, reduced.Groups)
	}
}
