package attribution

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

const pkgPath = "github.com/leakwatch/leakwatch/watchdog/attribution"

// blockOnSend blocks sending on ch until someone receives.
func blockOnSend(ch chan<- int) {
	ch <- 1 // marker: blockOnSend sends here
}

// sourceLine returns the 1-based line of file (in this directory) holding
// marker.
func sourceLine(t *testing.T, file, marker string) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.Contains(sc.Text(), marker) && !strings.Contains(sc.Text(), "sourceLine(") {
			return n
		}
	}
	t.Fatalf("marker %q not in %s", marker, file)
	return 0
}

// waitFor polls cond every millisecond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// findGroup returns the first report group whose top frame is fn.
func findGroup(r *Report, fn string) (GroupDelta, bool) {
	for _, g := range r.Groups {
		if g.Top.Function == fn {
			return g, true
		}
	}
	return GroupDelta{}, false
}

func take(t *testing.T, o Options) *Snapshot {
	t.Helper()
	s, err := Take(o)
	if err != nil {
		t.Fatalf("Take(%+v): %v", o, err)
	}
	return s
}

// TestChanSendGroup runs in both modes: with and without the goroutineleak
// profile. The channel stays reachable, so the profile must not call these
// goroutines leaked.
func TestChanSendGroup(t *testing.T) {
	const n = 20
	base := take(t, Options{})
	ch := make(chan int)
	t.Cleanup(func() {
		for range n {
			<-ch
		}
	})
	for range n {
		go blockOnSend(ch)
	}
	var r *Report
	waitFor(t, "senders to block", func() bool {
		r = Diff(base, take(t, Options{LeakProfile: true}))
		g, ok := findGroup(r, pkgPath+".blockOnSend")
		return ok && g.Count == n
	})
	g, _ := findGroup(r, pkgPath+".blockOnSend")
	wantLine := sourceLine(t, "goroutines_test.go", "marker: blockOnSend sends here")
	if g.Delta != n || g.Wait != WaitChanSend || filepath.Base(g.Top.File) != "goroutines_test.go" || g.Top.Line != wantLine {
		t.Errorf("group = delta %d wait %q at %s:%d, want delta %d wait %q at goroutines_test.go:%d",
			g.Delta, g.Wait, filepath.Base(g.Top.File), g.Top.Line, n, WaitChanSend, wantLine)
	}
	if g.Leaked != 0 {
		t.Errorf("leaked = %d, want 0: the channel is reachable", g.Leaked)
	}
	if r.LeakProfile != LeakProfileAvailable() {
		t.Errorf("report LeakProfile = %v, want %v", r.LeakProfile, LeakProfileAvailable())
	}
	hasNote := strings.Contains(strings.Join(r.Notes, "\n"), "goroutineleak profile unavailable")
	if hasNote == LeakProfileAvailable() {
		t.Errorf("notes %q: unavailable note present = %v with profile available = %v", r.Notes, hasNote, LeakProfileAvailable())
	}
	d := Diagnose(r, Context{})
	if d.Cause != CauseBlockedChannelSend || !strings.Contains(d.Summary, "blockOnSend") {
		t.Errorf("diagnosis = %v %q, want %v naming blockOnSend", d.Cause, d.Summary, CauseBlockedChannelSend)
	}
	if strings.Contains(d.Summary, "proven") {
		t.Errorf("diagnosis %q claims proof for reachable channel", d.Summary)
	}
}

// sendUnreachable starts n goroutines blocked forever on a channel that
// nothing else references: a leak the goroutineleak profile can prove.
func sendUnreachable(n int) {
	ch := make(chan int)
	for range n {
		go func() {
			ch <- 1 // marker: sendUnreachable leaks here
		}()
	}
}

// TestLeakProfileProvesLeak needs the goroutineleak profile. Its goroutines
// stay leaked for the life of the test binary (TestMain ignores them).
func TestLeakProfileProvesLeak(t *testing.T) {
	if !LeakProfileAvailable() {
		t.Skip("goroutineleak profile unavailable: run with GOEXPERIMENT=goroutineleakprofile (Go 1.26) or Go 1.27")
	}
	const n = 7
	fn := pkgPath + ".sendUnreachable.func1"
	// Earlier runs (-count) leave their leaked senders: count from a baseline.
	base := take(t, Options{LeakProfile: true})
	before := 0
	for _, g := range base.Groups {
		if g.Top.Function == fn {
			before = g.Leaked
		}
	}
	sendUnreachable(n)
	var r *Report
	waitFor(t, "leak profile to prove the senders", func() bool {
		r = Diff(base, take(t, Options{LeakProfile: true}))
		g, ok := findGroup(r, fn)
		return ok && g.Leaked == before+n
	})
	g, _ := findGroup(r, fn)
	if g.Delta != n || g.Wait != WaitChanSend || g.Top.Line != sourceLine(t, "goroutines_test.go", "marker: sendUnreachable leaks here") {
		t.Errorf("group = delta %d wait %q line %d, want %d chan send", g.Delta, g.Wait, g.Top.Line, n)
	}
	if r.Leaked < before+n {
		t.Errorf("report leaked = %d, want >= %d", r.Leaked, before+n)
	}
	d := Diagnose(r, Context{})
	if d.Cause != CauseBlockedChannelSend || !strings.Contains(d.Summary, "proven leaked") {
		t.Errorf("diagnosis = %v %q, want %v proven", d.Cause, d.Summary, CauseBlockedChannelSend)
	}
}

func TestWaitKindOf(t *testing.T) {
	for _, tc := range []struct {
		name  string
		funcs []string
		want  WaitKind
	}{
		{"send", []string{"runtime.gopark", "runtime.chansend", "runtime.chansend1", "main.f"}, WaitChanSend},
		{"recv", []string{"runtime.gopark", "runtime.chanrecv", "runtime.chanrecv1", "main.f"}, WaitChanReceive},
		{"select", []string{"runtime.gopark", "runtime.selectgo", "main.f"}, WaitSelect},
		{"select{}", []string{"runtime.gopark", "runtime.block", "main.f"}, WaitSelect},
		{"mutex", []string{"runtime.gopark", "runtime.goparkunlock", "runtime.semacquire1", "internal/sync.runtime_SemacquireMutex", "internal/sync.(*Mutex).lockSlow", "sync.(*Mutex).Lock"}, WaitSync},
		{"waitgroup", []string{"runtime.gopark", "runtime.semacquire1", "sync.runtime_SemacquireWaitGroup", "sync.(*WaitGroup).Wait"}, WaitSync},
		{"cond", []string{"runtime.gopark", "runtime.notifyListWait", "sync.runtime_notifyListWait", "sync.(*Cond).Wait"}, WaitSync},
		{"netpoll", []string{"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait", "internal/poll.(*pollDesc).wait"}, WaitIO},
		{"sleep", []string{"runtime.gopark", "time.Sleep", "main.f"}, WaitSleep},
		{"syscall", []string{"syscall.Syscall6", "os.(*File).Read"}, WaitSyscall},
		{"running", []string{"runtime.goroutineProfileWithLabelsConcurrent", "runtime.goroutineProfileWithLabels", "runtime.GoroutineProfile"}, WaitRunning},
		{"unknown", []string{"runtime.gopark", "main.f"}, WaitUnknown},
		{"empty", nil, WaitUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := waitKindOf(tc.funcs); got != tc.want {
				t.Errorf("waitKindOf(%q) = %q, want %q", tc.funcs, got, tc.want)
			}
		})
	}
}

func TestIsStdlib(t *testing.T) {
	for fn, want := range map[string]bool{
		"net/http.(*persistConn).readLoop":              true,
		"runtime.gopark":                                true,
		"main.main":                                     false,
		"main.(*T).run.func1":                           false,
		"github.com/leakwatch/leakwatch/watchdog.Start": false,
		"go.uber.org/zap.(*Logger).Info":                false,
		"golang.org/x/sys/unix.Syscall":                 false,
		"internal/poll.runtime_pollWait":                true,
		"example.com/m.F":                               false,
		"github.com/a/b.v2.F":                           false,
		"encoding/json.(*decodeState).object":           true,
	} {
		if got := isStdlib(fn); got != want {
			t.Errorf("isStdlib(%q) = %v, want %v", fn, got, want)
		}
	}
}

func TestMaxGoroutinesCeiling(t *testing.T) {
	s := take(t, Options{MaxGoroutines: 1, FDs: true})
	if s.Grouped || len(s.Groups) != 0 {
		t.Errorf("grouped = %v with %d groups, want skipped", s.Grouped, len(s.Groups))
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), "over the ceiling") {
		t.Errorf("notes = %q, want the ceiling named", s.Notes)
	}
	if _, err := Take(Options{MaxGoroutines: -1}); err != ErrNothing {
		t.Errorf("Take(nothing) error = %v, want ErrNothing", err)
	}
}

// TestNotStartedGroup: a goroutine created and not yet run has only runtime.goexit on its
// stack; it still forms a group with a frame to show. Whether a new goroutine has run by the
// time the profile is taken is up to the scheduler, so the test builds that record itself: the
// one frame every goroutine's stack ends with, runtime.goexit, taken from a live record.
func TestNotStartedGroup(t *testing.T) {
	var goexit uintptr
	for _, r := range goroutineRecords() {
		stk := r.Stack()
		if len(stk) == 0 {
			continue
		}
		if pc := stk[len(stk)-1]; runtime.FuncForPC(pc-1).Name() == "runtime.goexit" {
			goexit = pc
			break
		}
	}
	if goexit == 0 {
		t.Fatal("no goroutine record ends in runtime.goexit")
	}
	var notStarted runtime.StackRecord
	notStarted.Stack0[0] = goexit
	live := goroutineRecords()
	groups := groupRecords(append(live, notStarted, notStarted))
	for _, g := range groups {
		if len(g.Frames) == 0 || g.Key == "" || g.Top.Function == "" {
			t.Errorf("group without a frame: %+v", g)
		}
	}
	var g *Group
	for i := range groups {
		if groups[i].Top.Function == "runtime.goexit" && len(groups[i].Frames) == 1 {
			g = &groups[i]
		}
	}
	if g == nil || g.Count < 2 || g.Wait != WaitUnknown {
		t.Fatalf("no group of one runtime.goexit frame holding the 2 goroutines not started: %+v", groups)
	}
}
