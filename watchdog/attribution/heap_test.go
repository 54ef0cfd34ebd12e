package attribution

import (
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// heapKeep holds what growHeapCache allocates until the test is done.
var heapKeep map[int][]byte

// growHeapCache fills m with n entries of size bytes each: a map used as a
// cache that is never pruned.
//
//go:noinline
func growHeapCache(m map[int][]byte, n, size int) {
	for i := range n {
		m[i] = make([]byte, size)
	}
}

func TestTakeHeapNamesTheSiteThatGrew(t *testing.T) {
	if runtime.MemProfileRate <= 0 {
		t.Skip("heap profiling is off")
	}
	const n, size = 16 << 10, 1 << 10 // 16 MiB of payload, about 32 samples
	runtime.GC()                      // publish the profile as of now
	base := TakeHeap(HeapOptions{})
	heapKeep = make(map[int][]byte)
	defer func() { heapKeep = nil }()
	growHeapCache(heapKeep, n, size)
	runtime.GC()
	cur := TakeHeap(HeapOptions{})
	r := DiffHeap(base, cur, 5)
	t.Logf("\n%s", r)

	if len(r.Grew) == 0 {
		t.Fatal("no site grew")
	}
	fn := ownFunc("growHeapCache")
	var d int64
	for _, g := range r.Grew {
		if g.Site.Function == fn {
			d += g.DeltaBytes
			if !strings.HasSuffix(g.Site.File, "heap_test.go") || g.Site.Line == 0 {
				t.Errorf("site %v: want heap_test.go with a line", g.Site)
			}
		}
	}
	if r.Grew[0].Site.Function != fn {
		t.Errorf("largest growth in %v, want %s", r.Grew[0].Site, fn)
	}
	// 16 MiB allocated in 1 KiB objects: about 32 samples, so the estimate
	// is below 4 MiB (8 samples) or over 64 MiB (128) with odds under 1e-6.
	if d < 4<<20 || d > 64<<20 {
		t.Errorf("growth named in %s: %d bytes, want about %d", fn, d, n*size)
	}
	if !strings.HasPrefix(r.Grew[0].String(), "+") || !strings.Contains(r.Grew[0].String(), " in "+fn+" (heap_test.go:") {
		t.Errorf("String() = %q, want \"+N MiB in %s (heap_test.go:LINE)\"", r.Grew[0].String(), fn)
	}
	if r.LiveBytes.Delta < 8<<20 {
		t.Errorf("live heap grew %d bytes, want at least the %d retained", r.LiveBytes.Delta, n*size)
	}
	if cur.Rate != runtime.MemProfileRate || cur.Records == 0 || cur.Cost.Total <= 0 {
		t.Errorf("profile: rate %d records %d cost %v", cur.Rate, cur.Records, cur.Cost)
	}
	runtime.KeepAlive(heapKeep)
}

// callers returns the stack of its caller's caller, as the heap profile
// records it.
func callers() []uintptr {
	pcs := make([]uintptr, 32)
	return pcs[:runtime.Callers(2, pcs)]
}

//go:noinline
func siteA() []uintptr { return callers() }

//go:noinline
func siteB() []uintptr { return callers() }

// viaStrings returns a stack whose innermost frame is strings.Map, called
// from viaStrings: as an allocation inside strings.Map would be recorded.
//
//go:noinline
func viaStrings() []uintptr {
	var pcs []uintptr
	_ = strings.Map(func(r rune) rune {
		if pcs == nil {
			pcs = callers()
		}
		return r
	}, "x")
	return pcs[1:] // without the closure itself
}

func record(pcs []uintptr, objects, bytes int64) runtime.MemProfileRecord {
	var r runtime.MemProfileRecord
	copy(r.Stack0[:], pcs)
	r.AllocObjects, r.AllocBytes = objects, bytes
	return r
}

func TestGroupHeapRecords(t *testing.T) {
	a, b := siteA(), siteB()
	recs := []runtime.MemProfileRecord{
		record(a, 2, 2048), // one stack, two allocation sizes: one site
		record(a, 1, 64),
		record(b, 4, 4096),
		{AllocObjects: 3, AllocBytes: 300, FreeObjects: 3, FreeBytes: 300}, // all freed
		record(viaStrings(), 1, 100),
	}
	recs[0].FreeObjects, recs[0].FreeBytes = 1, 1024
	got := groupHeapRecords(recs, 1) // rate 1: every allocation sampled, no scaling
	if len(got) != 3 {
		t.Fatalf("%d sites, want 3: %+v", len(got), got)
	}
	want := []struct {
		fn             string
		bytes, objects int64
		records        int
	}{
		{ownFunc("siteB"), 4096, 4, 1},
		{ownFunc("siteA"), 1024 + 64, 2, 2},
		{ownFunc("viaStrings"), 100, 1, 1}, // not strings.Map
	}
	for i, w := range want {
		g := got[i]
		if g.Site.Function != w.fn || g.Bytes != w.bytes || g.Objects != w.objects || g.Records != w.records {
			t.Errorf("site %d: got %s %d bytes %d objects %d records, want %s %d %d %d",
				i, g.Site.Function, g.Bytes, g.Objects, g.Records, w.fn, w.bytes, w.objects, w.records)
		}
		if !strings.HasSuffix(g.Site.File, "heap_test.go") {
			t.Errorf("site %d: file %q, want heap_test.go", i, g.Site.File)
		}
	}
}

func TestAllocSiteFallsBackOutsideTheRuntime(t *testing.T) {
	// A stack of runtime and standard library only: its innermost frame
	// outside the runtime.
	var pcs []uintptr
	done := make(chan struct{})
	go func() { // a goroutine whose stack is testing.tRunner-free
		defer close(done)
		_ = strings.Map(func(r rune) rune { pcs = callers(); return r }, "x")
	}()
	<-done
	// Drop the frames of this package: what is left is strings.Map,
	// then runtime.goexit.
	var rest []uintptr
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if !strings.Contains(f.Function, "/attribution.") {
			rest = append(rest, f.PC+1) // return PCs, as recorded
		}
		if !more {
			break
		}
	}
	got := allocSite(rest)
	if got.Function != "strings.Map" {
		t.Errorf("allocSite = %v, want strings.Map", got)
	}
}

func TestScaleHeapSample(t *testing.T) {
	for _, c := range []struct {
		count, size int64
		rate        int
		wantC       int64
		wantS       int64
	}{
		{0, 0, 512 << 10, 0, 0},
		{3, 300, 1, 3, 300},
		{1, 1 << 30, 512 << 10, 1, 1 << 30},    // a huge object is always sampled
		{1, 32, 512 << 10, 16384, 524304},      // one small sample stands for about rate bytes
		{2, 1024 << 10, 512 << 10, 3, 1658822}, // objects of rate bytes: scale 1/(1-exp(-1))
	} {
		gc, gs := scaleHeapSample(c.count, c.size, c.rate)
		if d := gs - c.wantS; gc != c.wantC || d < -2 || d > 2 {
			t.Errorf("scaleHeapSample(%d, %d, %d) = %d, %d; want %d, %d", c.count, c.size, c.rate, gc, gs, c.wantC, c.wantS)
		}
	}
}

// bigSites allocates 8, 16 and 24 MiB at three lines: each allocation is
// sampled but with odds of e^-16 or less.
//
//go:noinline
func bigSites() [][]byte {
	return [][]byte{
		make([]byte, 8<<20),
		make([]byte, 16<<20),
		make([]byte, 24<<20),
	}
}

func TestTakeHeapKeepsTheLargestSites(t *testing.T) {
	if runtime.MemProfileRate <= 0 {
		t.Skip("heap profiling is off")
	}
	keep := bigSites()
	runtime.GC()
	p := TakeHeap(HeapOptions{MaxSites: 2})
	runtime.KeepAlive(keep)
	if len(p.Sites) != 2 || p.Omitted.Sites == 0 || p.Omitted.MaxBytes > p.Sites[1].Bytes {
		t.Fatalf("MaxSites 2: %d sites, omitted %+v", len(p.Sites), p.Omitted)
	}
	for i, want := range []int64{24 << 20, 16 << 20} {
		if s := p.Sites[i]; s.Site.Function != ownFunc("bigSites") || s.Bytes < want {
			t.Errorf("site %d: %v %d bytes, want bigSites with %d", i, s.Site, s.Bytes, want)
		}
	}
	var sum int64
	for _, s := range p.Sites {
		sum += s.Bytes
	}
	if sum+p.Omitted.Bytes != p.Bytes {
		t.Errorf("kept %d + omitted %d != total %d", sum, p.Omitted.Bytes, p.Bytes)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "kept the 2 largest") {
		t.Errorf("notes %q, want what was cut", p.Notes)
	}
	r := DiffHeap(p, p, 0)
	if len(r.Grew) != 0 || r.Bytes.Delta != 0 {
		t.Errorf("a profile against itself: %+v", r)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "overstating its growth by at most") {
		t.Errorf("diff notes %q, want the bound of the baseline's cut", r.Notes)
	}

	// Over the record ceiling: nothing read, and the note says why.
	p = TakeHeap(HeapOptions{MaxRecords: 1})
	runtime.KeepAlive(keep)
	if p.Records < 3 || len(p.Sites) != 0 || len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "over the ceiling of 1") {
		t.Errorf("MaxRecords 1: %d records, %d sites, notes %q; want at least 3, none and the ceiling named", p.Records, len(p.Sites), p.Notes)
	}
}

func TestDiffHeap(t *testing.T) {
	f := func(fn string, line int) Frame { return Frame{Function: fn, File: "/src/" + fn + ".go", Line: line} }
	base := &HeapProfile{
		Sites: []HeapSite{{Site: f("main.a", 1), Bytes: 100 << 20, Objects: 10}, {Site: f("main.b", 2), Bytes: 5 << 20, Objects: 5}},
		Bytes: 105 << 20, LiveBytes: 100 << 20, Stacks: Stacks{InHeap: 1 << 20}, Rate: 512 << 10,
	}
	cur := &HeapProfile{
		Sites: []HeapSite{{Site: f("main.a", 1), Bytes: 90 << 20}, {Site: f("main.(*cache).put", 41), Bytes: 38 << 20, Objects: 38},
			{Site: f("main.b", 2), Bytes: 6 << 20, Objects: 6}, {Site: f("main.c", 3), Bytes: 1 << 20}},
		Bytes: 135 << 20, LiveBytes: 130 << 20, Stacks: Stacks{InHeap: 13 << 20}, Rate: 512 << 10,
	}
	r := DiffHeap(base, cur, 2)
	var got []string
	for _, g := range r.Grew {
		got = append(got, g.String())
	}
	want := []string{"+38 MiB in main.(*cache).put (main.(*cache).put.go:41)", "+1.0 MiB in main.b (main.b.go:2)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Grew = %q, want %q", got, want)
	}
	if r.GrewSites != 3 || r.GrewBytes != 40<<20 || r.Bytes.Delta != 30<<20 || r.Stacks.Delta != 12<<20 || r.LiveBytes.Delta != 30<<20 {
		t.Errorf("totals: %d sites %d bytes, heap %+v stacks %+v live %+v", r.GrewSites, r.GrewBytes, r.Bytes, r.Stacks, r.LiveBytes)
	}
	if r.Grew[0].DeltaObjects != 38 || r.Grew[1].DeltaObjects != 1 {
		t.Errorf("object deltas %d, %d; want 38, 1", r.Grew[0].DeltaObjects, r.Grew[1].DeltaObjects)
	}
	text := r.String()
	for _, w := range []string{"goroutine stacks 13 MiB (+12 MiB)", "(2 of 3 shown, +40 MiB in all)", "- +38 MiB in main.(*cache).put", "one per 512 KiB"} {
		if !strings.Contains(text, w) {
			t.Errorf("text lacks %q:\n%s", w, text)
		}
	}
	if _, err := json.Marshal(r); err != nil {
		t.Error(err)
	}
	if e := DiffHeap(nil, nil, 0); len(e.Grew) != 0 || e.Bytes.Delta != 0 {
		t.Errorf("nil profiles: %+v", e)
	}
}

func TestFormatBytes(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "+0 B"}, {1023, "+1023 B"}, {1024, "+1.0 KiB"}, {-1536, "-1.5 KiB"},
		{38 << 20, "+38 MiB"}, {10<<20 - 1, "+10 MiB"}, {3 << 30, "+3.0 GiB"},
	} {
		if got := formatBytes(c.n); got != c.want {
			t.Errorf("formatBytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestReadStacks(t *testing.T) {
	s := ReadStacks()
	// The test's own goroutines have stacks: the heap holds at least one.
	if s.InHeap == 0 || s.Total() < s.InHeap {
		t.Errorf("ReadStacks = %+v, want stacks in the heap", s)
	}
	before := s.InHeap
	const n = 200
	var started, done sync.WaitGroup
	started.Add(n)
	stop := make(chan struct{})
	for range n {
		done.Go(func() { deepStack(64, &started, stop) })
	}
	// Each stack grows from 2 KiB to 16 KiB for 64 frames of over 128 bytes.
	started.Wait()
	after := ReadStacks().InHeap
	close(stop)
	done.Wait()
	if after < before+n*4<<10 {
		t.Errorf("stacks in heap %d -> %d with %d deep goroutines, want at least +%d", before, after, n, n*4<<10)
	}
}

//go:noinline
func deepStack(d int, started *sync.WaitGroup, stop chan struct{}) byte {
	var pad [128]byte
	pad[d%128] = byte(d)
	if d > 0 {
		return deepStack(d-1, started, stop) + pad[0]
	}
	started.Done()
	<-stop
	return pad[0]
}
