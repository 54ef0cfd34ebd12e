package attribution

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/trend"
)

func TestDiagnoseTable(t *testing.T) {
	send := GroupDelta{Group: Group{Key: "s", Count: 9, Wait: WaitChanSend, Top: Frame{"main.produce", "main.go", 12}}, Base: 1, Delta: 8}
	recv := GroupDelta{Group: Group{Key: "r", Count: 4, Leaked: 4, Wait: WaitChanReceive, Top: Frame{"main.consume", "main.go", 30}}, Delta: 4}
	sleep := GroupDelta{Group: Group{Key: "z", Count: 2, Wait: WaitSleep, Top: Frame{"main.poll", "main.go", 40}}, Delta: 2}
	files := FDClassDelta{FDClass: FDClass{FDFile, "/var/lib/app", 50}, Base: 10, Delta: 40}
	for _, tc := range []struct {
		name     string
		r        *Report
		ctx      Context
		want     Cause
		contains string
	}{
		{"nil report", nil, Context{}, CauseUnknown, "no report"},
		{"empty", &Report{}, Context{}, CauseUnknown, "no known leak pattern"},
		{"small growth is unknown", &Report{Groups: []GroupDelta{sleep}}, Context{}, CauseUnknown, "+2 goroutines (sleep) in main.poll (main.go:40)"},
		{"chan send", &Report{Groups: []GroupDelta{send}}, Context{}, CauseBlockedChannelSend, "main.produce (main.go:12)"},
		{"chan send under threshold", &Report{Groups: []GroupDelta{send}}, Context{MinGrowth: 9}, CauseUnknown, "main.produce"},
		{"proven receive", &Report{Groups: []GroupDelta{recv}, LeakProfile: true}, Context{}, CauseBlockedChannelReceive, "blocked receiving from a channel nobody sends on or closes, in main.consume (main.go:30), 4 proven leaked"},
		{"growing receive, unproven", &Report{Groups: []GroupDelta{{Group: Group{Key: "r", Count: 9, Wait: WaitChanReceive, Top: Frame{"main.worker", "w.go", 7}}, Delta: 9}}}, Context{}, CauseBlockedChannelReceive, "9 goroutines (+9) blocked receiving from a channel nobody sends on or closes, in main.worker (w.go:7)"},
		{"proven select", &Report{Groups: []GroupDelta{{Group: Group{Key: "s", Count: 4, Leaked: 4, Wait: WaitSelect, Top: Frame{"main.wait", "s.go", 3}}, Delta: 4}}, LeakProfile: true}, Context{}, CauseProvenGoroutineLeak, "4 goroutines proven leaked"},
		{"proven before the baseline is not this alert", &Report{Groups: []GroupDelta{{Group: recv.Group, Base: 4}}, LeakProfile: true}, Context{}, CauseUnknown, "no known leak pattern"},
		{"http alert favours the pool over files", &Report{
			Groups: []GroupDelta{{Group: Group{Key: "g", Count: 5, Wait: WaitSelect, Top: Frame{"main.call", "c.go", 9},
				Frames: []Frame{{Function: fnGetConn}, {Function: "main.call"}}}, Delta: 5}},
			FDClasses: []FDClassDelta{{FDClass: FDClass{FDFile, "/d", 8}, Delta: 8}}},
			Context{Series: []SeriesRate{{Name: "http_docker_waiting", Level: trend.Warning}}, Pools: []PoolStats{{Name: "docker", Waiting: 5}}},
			CausePoolStarved, `transport "docker"`},
		{"files", &Report{FDClasses: []FDClassDelta{files}}, Context{}, CauseFileNotClosed, "under /var/lib/app"},
		{"bodies over a unix socket", &Report{
			Groups: []GroupDelta{
				{Group: Group{Key: "rl", Count: 6, Wait: WaitSelect, Top: Frame{fnReadLoop, "transport.go", 1}, Frames: []Frame{{Function: fnReadLoop}}}, Delta: 6},
				{Group: Group{Key: "wl", Count: 6, Wait: WaitSelect, Top: Frame{fnWriteLoop, "transport.go", 2}, Frames: []Frame{{Function: fnWriteLoop}}}, Delta: 6}},
			FDClasses: []FDClassDelta{{FDClass: FDClass{FDUnix, "to /var/run/docker.sock", 6}, Delta: 6}}},
			Context{Pools: []PoolStats{{Name: "docker", Open: 6, OpenDelta: 6, Active: 6, ActiveDelta: 6}}},
			CauseUnclosedResponseBody, `transport "docker" to /var/run/docker.sock: +12 connection goroutines (readLoop/writeLoop) and +6 sockets`},
		{"fds alert favours files", &Report{Groups: []GroupDelta{send}, FDClasses: []FDClassDelta{{FDClass: FDClass{FDFile, "/d", 10}, Delta: 6}}},
			Context{Series: []SeriesRate{{Name: "fds", Level: trend.Critical, PerMinute: 40}}}, CauseFileNotClosed, "under /d"},
		{"goroutine alert favours send", &Report{Groups: []GroupDelta{send}, FDClasses: []FDClassDelta{{FDClass: FDClass{FDFile, "/d", 10}, Delta: 6}}},
			Context{Series: []SeriesRate{{Name: "goroutines", Level: trend.Warning, PerMinute: 40}}}, CauseBlockedChannelSend, "main.produce"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Diagnose(tc.r, tc.ctx)
			if d.Cause != tc.want || !strings.Contains(d.Summary, tc.contains) {
				t.Errorf("Diagnose = %v %q, want %v containing %q", d.Cause, d.Summary, tc.want, tc.contains)
			}
		})
	}
}

func TestDiagnoseEvidence(t *testing.T) {
	r := &Report{
		Groups:    []GroupDelta{{Group: Group{Key: "s", Count: 9, Wait: WaitChanSend, Top: Frame{"main.produce", "main.go", 12}}, Delta: 9}},
		FDClasses: []FDClassDelta{{FDClass: FDClass{FDFile, "/d", 4}, Delta: 4}},
	}
	d := Diagnose(r, Context{Series: []SeriesRate{{Name: "goroutines", Level: trend.Warning, PerMinute: 22.5}}})
	want := []string{
		"series goroutines at warning: +22.5/min",
		"9 goroutines (+9) chan send in main.produce (main.go:12)",
		"no goroutineleak profile: the leak is inferred from growth, not proven",
		"also suspected (file_not_closed): files opened and never closed under /d: 4 open descriptors (+4)",
	}
	if strings.Join(d.Evidence, "\n") != strings.Join(want, "\n") {
		t.Errorf("evidence:\n%s\nwant:\n%s", strings.Join(d.Evidence, "\n"), strings.Join(want, "\n"))
	}
}

func TestCauseStrings(t *testing.T) {
	for c := CauseUnknown; c <= CauseLockCycle; c++ {
		if s := c.String(); s == "" || (c != CauseUnknown && s == "unknown") {
			t.Errorf("Cause(%d).String() = %q", c, s)
		}
	}
	if Cause(99).String() != "unknown" || WaitKind(99).String() != "unknown" || TCPState(99).String() != "UNKNOWN" {
		t.Error("out-of-range values do not read unknown")
	}
	var k WaitKind
	if err := k.UnmarshalText([]byte("chan send")); err != nil || k != WaitChanSend {
		t.Errorf("UnmarshalText = %v, %v", k, err)
	}
}

// parkedStack is a parked goroutine's frames: runtime.gopark, the runtime
// and sync frames given, then the program's function fn at line.
func parkedStack(fn string, line int, inner ...string) []Frame {
	fs := []Frame{{Function: "runtime.gopark", File: "proc.go", Line: 1}}
	for _, f := range inner {
		fs = append(fs, Frame{Function: f, File: "x.go", Line: 1})
	}
	return append(fs, Frame{Function: fn, File: "app.go", Line: line}, Frame{Function: "main.serve", File: "app.go", Line: 99})
}

func blockedDelta(key string, n int, wait WaitKind, fn string, line int, inner ...string) GroupDelta {
	fs := parkedStack(fn, line, inner...)
	return GroupDelta{Group: Group{Key: key, Count: n, Wait: wait, Top: fs[len(inner)+1], Frames: fs}, Delta: n}
}

func TestDiagnoseEveryPrimitive(t *testing.T) {
	mutex := []string{"runtime.goparkunlock", "runtime.semacquire1", "internal/sync.runtime_SemacquireMutex",
		"internal/sync.(*Mutex).lockSlow", "internal/sync.(*Mutex).Lock", "sync.(*Mutex).Lock"}
	for _, tc := range []struct {
		name  string
		inner []string
		wait  WaitKind
		want  Cause
		says  string
	}{
		{"mutex", mutex, WaitSync, CauseBlockedMutex, "blocked locking a sync.Mutex, in main.h (app.go:10)"},
		{"once", append(mutex, "sync.(*Once).doSlow", "sync.(*Once).Do"), WaitSync, CauseBlockedMutex, "blocked locking a sync.Mutex (inside sync.(*Once).Do)"},
		{"rw writer behind writer", append(mutex, "sync.(*RWMutex).Lock"), WaitSync, CauseBlockedRWMutex, "for writing while another writer holds it"},
		{"rw writer behind readers", []string{"runtime.semacquire1", "sync.runtime_SemacquireRWMutex", "sync.(*RWMutex).Lock"}, WaitSync, CauseBlockedRWMutex, "for writing while readers hold it"},
		{"rw reader", []string{"runtime.semacquire1", "sync.runtime_SemacquireRWMutexR", "sync.(*RWMutex).RLock"}, WaitSync, CauseBlockedRWMutex, "for reading while a writer holds or waits for it"},
		{"waitgroup", []string{"runtime.semacquire1", "sync.runtime_SemacquireWaitGroup", "sync.(*WaitGroup).Wait"}, WaitSync, CauseBlockedWaitGroup, "whose counter never reaches zero"},
		{"waitgroup before go1.25", []string{"runtime.semacquire1", "sync.runtime_Semacquire", "sync.(*WaitGroup).Wait"}, WaitSync, CauseBlockedWaitGroup, "whose counter never reaches zero"},
		{"cond", []string{"runtime.goparkunlock", "sync.runtime_notifyListWait", "sync.(*Cond).Wait"}, WaitSync, CauseBlockedCond, "waiting on a sync.Cond never signalled"},
		{"select", []string{"runtime.selectgo"}, WaitSelect, CauseBlockedSelect, "in a select with no case ready"},
		{"select {}", []string{"runtime.block"}, WaitSelect, CauseEmptySelect, "in select {} (blocks forever)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Groups: []GroupDelta{blockedDelta("k", 5, tc.wait, "main.h", 10, tc.inner...)}}
			d := Diagnose(r, Context{})
			if d.Cause != tc.want || !strings.Contains(d.Summary, tc.says) {
				t.Errorf("Diagnose = %v %q, want %v saying %q", d.Cause, d.Summary, tc.want, tc.says)
			}
			r.LeakProfile = true
			r.Groups[0].Leaked = 5
			d = Diagnose(r, Context{})
			if d.Cause != tc.want || !strings.Contains(d.Summary, tc.says) || !strings.Contains(d.Summary, "5 proven leaked by the goroutineleak profile: the runtime proved the") {
				t.Errorf("proven: Diagnose = %v %q, want %v saying %q and the proof", d.Cause, d.Summary, tc.want, tc.says)
			}
		})
	}
}

func TestDiagnoseNotYetRunIsNoLeak(t *testing.T) {
	backlog := GroupDelta{Group: Group{Key: "runtime.goexit:1;", Count: 108, Wait: WaitUnknown,
		Top: Frame{"runtime.goexit", "asm.s", 1}, Frames: []Frame{{"runtime.goexit", "asm.s", 1}}}, Delta: 108}
	mutex := blockedDelta("m", 40, WaitSync, "main.handle", 7, "runtime.semacquire1", "internal/sync.runtime_SemacquireMutex", "sync.(*Mutex).Lock")
	d := Diagnose(&Report{Groups: []GroupDelta{backlog, mutex}}, Context{})
	if d.Cause != CauseBlockedMutex || !strings.Contains(d.Summary, "main.handle") || strings.Contains(d.Summary, "goexit") {
		t.Errorf("with a backlog: %v %q, want %v naming main.handle", d.Cause, d.Summary, CauseBlockedMutex)
	}
	sleep := GroupDelta{Group: Group{Key: "z", Count: 2, Wait: WaitSleep, Top: Frame{"main.poll", "main.go", 40}}, Delta: 2}
	d = Diagnose(&Report{Groups: []GroupDelta{backlog, sleep}}, Context{})
	if d.Cause != CauseUnknown || !strings.Contains(d.Summary, "+2 goroutines (sleep) in main.poll") {
		t.Errorf("backlog and a sleeper: %v %q, want the sleeper named", d.Cause, d.Summary)
	}
	d = Diagnose(&Report{Groups: []GroupDelta{backlog}}, Context{})
	if d.Cause != CauseUnknown || !strings.Contains(d.Summary, "+108 goroutines not yet run (a backlog of the scheduler, not blocked)") {
		t.Errorf("backlog alone: %v %q", d.Cause, d.Summary)
	}
}

// A goroutine caught running inside the runtime's channel code is not
// blocked, and certainly not on a nil channel.
func TestDiagnoseRunningIsNotBlocked(t *testing.T) {
	fs := []Frame{{"runtime.lock2", "lock.go", 1}, {"runtime.chanrecv", "chan.go", 3}, {"runtime.chanrecv1", "chan.go", 2}, {"main.work", "w.go", 5}}
	g := GroupDelta{Group: Group{Key: "w", Count: 9, Wait: WaitChanReceive, Top: fs[3], Frames: fs}, Delta: 9}
	if b := blockingOf(&g.Group); b.op != opNone {
		t.Errorf("blockingOf(running) = %v, want opNone", b.op)
	}
}

func TestEnclosing(t *testing.T) {
	for in, want := range map[string]string{
		"main.f":                      "main.f",
		"main.f.func1":                "main.f",
		"main.f.func1.2":              "main.f",
		"main.f.gowrap3":              "main.f",
		"example.com/p.(*T).m.func2":  "example.com/p.(*T).m",
		"example.com/p.v1.func":       "example.com/p.v1.func",
		"example.com/p.funcs":         "example.com/p.funcs",
		"example.com/p.func1/q.Serve": "example.com/p.func1/q.Serve",
	} {
		if got := enclosing(in); got != want {
			t.Errorf("enclosing(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSeriesRateLevelTyped: a series' level crosses into attribution as the watchdog's level
// type: JSON carries its name, a name that is no level is rejected, and the diagnosis prints it.
func TestSeriesRateLevelTyped(t *testing.T) {
	b, err := json.Marshal(SeriesRate{Name: "fds", Level: trend.Critical, PerMinute: 40})
	if err != nil || !strings.Contains(string(b), `"level":"critical"`) {
		t.Errorf("JSON = %s, %v; want level critical by name", b, err)
	}
	var got SeriesRate
	if err := json.Unmarshal([]byte(`{"name":"fds","level":"warning"}`), &got); err != nil || got.Level != trend.Warning {
		t.Errorf("decoded %+v, %v; want level warning", got, err)
	}
	if err := json.Unmarshal([]byte(`{"name":"fds","level":"bogus"}`), &got); err == nil {
		t.Errorf(`level "bogus" decoded as %+v, want an error`, got)
	}
	d := Diagnose(&Report{}, Context{Series: []SeriesRate{{Name: "fds", Level: trend.Warning, PerMinute: 20}}})
	if !slices.ContainsFunc(d.Evidence, func(s string) bool { return strings.Contains(s, "series fds at warning") }) {
		t.Errorf("diagnosis evidence %q, want the series at its level", d.Evidence)
	}
}
