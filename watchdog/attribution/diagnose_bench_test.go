package attribution

import "testing"

// BenchmarkDiagnose is the diagnosis alone, on a report at its default
// length (10 groups) of parked goroutines: two groups in a two-lock cycle,
// the requests queued behind them, a parked holder, channel, select,
// WaitGroup and Cond waiters, and a backlog not yet run.
func BenchmarkDiagnose(b *testing.B) {
	gopark := Frame{"runtime.gopark", "/go/src/runtime/proc.go", 462}
	mutex := []Frame{gopark, {"runtime.goparkunlock", "proc.go", 468}, {"runtime.semacquire1", "sema.go", 192},
		{"internal/sync.runtime_SemacquireMutex", "sema.go", 95}, {"internal/sync.(*Mutex).lockSlow", "mutex.go", 149},
		{"internal/sync.(*Mutex).Lock", "mutex.go", 70}, {"sync.(*Mutex).Lock", "mutex.go", 46}}
	group := func(key string, n int, wait WaitKind, inner []Frame, fn string, line int) GroupDelta {
		fs := append(append([]Frame{}, inner...), Frame{fn, "/src/app/app.go", line},
			Frame{"example.com/app.serve", "/src/app/app.go", 900}, Frame{"net/http.(*conn).serve", "server.go", 2100})
		return GroupDelta{Group: Group{Key: key, Count: n, Wait: wait, Top: fs[len(inner)], Frames: fs}, Delta: n}
	}
	chanSend := []Frame{gopark, {"runtime.chansend", "chan.go", 283}, {"runtime.chansend1", "chan.go", 161}}
	r := &Report{Groups: []GroupDelta{
		{Group: Group{Key: "goexit", Count: 300, Top: Frame{"runtime.goexit", "asm.s", 1}, Frames: []Frame{{"runtime.goexit", "asm.s", 1}}}, Delta: 300},
		group("d1", 120, WaitSync, mutex, "example.com/app.debit", 10),
		group("c1", 80, WaitSync, mutex, "example.com/app.credit", 30),
		group("s", 40, WaitChanSend, chanSend, "example.com/app.fetch.func1", 50),
		group("sel", 30, WaitSelect, []Frame{gopark, {"runtime.selectgo", "select.go", 351}}, "example.com/app.await", 60),
		group("wg", 20, WaitSync, []Frame{gopark, {"runtime.semacquire1", "sema.go", 192}, {"sync.runtime_SemacquireWaitGroup", "sema.go", 114}, {"sync.(*WaitGroup).Wait", "waitgroup.go", 206}}, "example.com/app.collect", 70),
		group("cond", 10, WaitSync, []Frame{gopark, {"runtime.goparkunlock", "proc.go", 468}, {"sync.runtime_notifyListWait", "sema.go", 617}, {"sync.(*Cond).Wait", "cond.go", 71}}, "example.com/app.pop", 80),
		group("hold", 5, WaitChanSend, chanSend, "example.com/app.refresh", 95),
		group("d2", 1, WaitSync, mutex, "example.com/app.debit", 12),
		group("c2", 1, WaitSync, mutex, "example.com/app.credit", 32),
	}}
	b.ReportAllocs()
	var d Diagnosis
	for b.Loop() {
		d = Diagnose(r, Context{})
	}
	if d.Summary == "" {
		b.Fatal("no summary")
	}
	b.ReportMetric(float64(len(d.Evidence)), "evidence-lines")
}
