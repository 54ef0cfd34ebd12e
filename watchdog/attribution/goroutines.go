package attribution

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxFrames bounds the frames kept per group in a report. The runtime
// records at most 32 per goroutine (runtime.StackRecord).
const maxFrames = 16

// Frame is one symbolised stack frame.
type Frame struct {
	// Function is the fully qualified function name, for example
	// "net/http.(*persistConn).readLoop".
	Function string `json:"function"`
	// File is the source file path as recorded in the binary (absolute,
	// or module-relative when built with -trimpath).
	File string `json:"file"`
	// Line is the source line, 1-based; 0 when unknown.
	Line int `json:"line"`
}

// String returns "function (file:line)".
func (f Frame) String() string {
	if f.Function == "" {
		return "?"
	}
	return fmt.Sprintf("%s (%s:%d)", f.Function, f.File, f.Line)
}

// Group is a set of goroutines with the same stack.
type Group struct {
	// Key identifies the stack within one process: the frames' functions
	// and lines joined. Equal keys in two snapshots mean the same stack.
	Key string `json:"key"`
	// Count is the number of goroutines with this stack.
	Count int `json:"count"`
	// Leaked is the number of these goroutines that the runtime's
	// goroutineleak profile proves leaked (blocked on a concurrency
	// primitive no live goroutine can reach); 0 when the profile was not
	// collected or proves nothing about this stack.
	Leaked int `json:"leaked"`
	// Wait is what the goroutines are blocked on, derived from frames.
	Wait WaitKind `json:"wait"`
	// Top is the innermost frame outside the runtime and the standard
	// library; when the whole stack is runtime or standard library (as
	// for net/http's connection goroutines), the outermost frame outside
	// the runtime: the goroutine's own function, such as
	// "net/http.(*conn).serve". A goroutine created and not yet run has
	// only runtime.goexit on its stack, and that is its Top.
	Top Frame `json:"top"`
	// Frames are the stack's frames, innermost first, at most 16.
	Frames []Frame `json:"frames"`
}

// HasFunction reports whether any frame of the group is the function
// named (exact match, for example "net/http.(*persistConn).readLoop").
func (g *Group) HasFunction(name string) bool {
	for _, f := range g.Frames {
		if f.Function == name {
			return true
		}
	}
	return false
}

// isRuntime reports whether a function belongs to the runtime (frames the
// report hides as the top frame).
func isRuntime(fn string) bool {
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/runtime/")
}

// isStdlib reports whether a function belongs to the standard library:
// its import path's first element has no dot (and it is not package main).
func isStdlib(fn string) bool {
	path := fn
	// The package path ends at the first dot after the last slash.
	slash := strings.LastIndexByte(path, '/')
	if dot := strings.IndexByte(path[slash+1:], '.'); dot >= 0 {
		path = path[:slash+1+dot]
	}
	if path == "main" || strings.HasPrefix(fn, "main.") {
		return false
	}
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// selfFunc is the function whose goroutine takes the profile, and
// asideFunc the one whose goroutine reads the descriptors meanwhile
// (Options.Overlap): both are left out of the groups, since their stacks
// differ from one snapshot to the next.
var selfFunc, asideFunc = ownFunc("goroutineRecords"), ownFunc("takeFDsAside")

// ownFunc is the full name of this package's function fn.
func ownFunc(fn string) string {
	pc, _, _, _ := runtime.Caller(0)
	name := runtime.FuncForPC(pc).Name() // ".../attribution.ownFunc"
	return name[:strings.LastIndex(name, "/attribution.")] + "/attribution." + fn
}

// stackKey is the raw program counters of one goroutine's stack.
type stackKey [32]uintptr

// groupRecords groups raw stack records by their program counters, then
// symbolises each distinct stack once. Groups whose symbolised keys are
// equal (distinct PCs on the same lines) are merged. The result is sorted
// by count, largest first.
func groupRecords(recs []runtime.StackRecord) []Group {
	counts := make(map[stackKey]int, 64)
	for i := range recs {
		counts[recs[i].Stack0]++
	}
	byKey := make(map[string]int, len(counts))
	groups := make([]Group, 0, len(counts))
	for pcs, n := range counts {
		g := symbolise(trimPCs(pcs[:]))
		g.Count = n
		if g.Wait == WaitRunning && g.HasFunction(selfFunc) || g.HasFunction(asideFunc) {
			continue // the goroutines taking this snapshot
		}
		if i, ok := byKey[g.Key]; ok {
			groups[i].Count += n
			continue
		}
		byKey[g.Key] = len(groups)
		groups = append(groups, g)
	}
	sortGroups(groups)
	return groups
}

func sortGroups(groups []Group) {
	slices.SortFunc(groups, func(a, b Group) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Key, b.Key)
	})
}

func trimPCs(pcs []uintptr) []uintptr {
	if i := slices.Index(pcs, 0); i >= 0 {
		return pcs[:i]
	}
	return pcs
}

// symbolise turns return PCs (as recorded by the goroutine profile) into a
// Group without a count.
func symbolise(pcs []uintptr) Group {
	var (
		g     Group
		key   strings.Builder
		funcs = make([]string, 0, len(pcs))
		top   = -1 // last frame outside the runtime
		user  = -1 // first frame outside runtime and stdlib
	)
	frames := runtime.CallersFrames(pcs)
	for {
		fr, more := frames.Next()
		if fr.Function != "" || fr.File != "" {
			f := Frame{Function: fr.Function, File: fr.File, Line: fr.Line}
			funcs = append(funcs, f.Function)
			// runtime.goexit ends every stack and is left out, but for a goroutine
			// created and not yet run, whose stack holds nothing else.
			if f.Function != "runtime.goexit" || (!more && len(g.Frames) == 0) {
				i := len(g.Frames)
				g.Frames = append(g.Frames, f)
				if !isRuntime(f.Function) {
					top = i
				}
				if user < 0 && !isRuntime(f.Function) && !isStdlib(f.Function) {
					user = i
				}
				fmt.Fprintf(&key, "%s:%d;", f.Function, f.Line)
			}
		}
		if !more {
			break
		}
	}
	g.Key = key.String()
	g.Wait = waitKindOf(funcs)
	switch {
	case user >= 0:
		g.Top = g.Frames[user]
	case top >= 0:
		g.Top = g.Frames[top]
	case len(g.Frames) > 0:
		g.Top = g.Frames[0]
	}
	if len(g.Frames) > maxFrames {
		g.Frames = g.Frames[:maxFrames:maxFrames]
	}
	return g
}

// goroutineRecords takes the runtime's goroutine profile: one raw stack per
// goroutine. It stops the world twice, briefly (Go 1.19+ collects
// concurrently between the two pauses).
func goroutineRecords() []runtime.StackRecord {
	n := runtime.NumGoroutine()
	for {
		recs := make([]runtime.StackRecord, n+n/8+16)
		got, ok := runtime.GoroutineProfile(recs)
		if ok {
			return recs[:got]
		}
		n = got
	}
}

// blockOp is the operation a goroutine group is blocked in, finer than
// [WaitKind]: the primitive and how it is used, from the runtime and sync
// frames of the stack (function names of the runtime and the sync package
// only, never the program's). The zero value, opNone, is anything else.
type blockOp int

const (
	opNone blockOp = iota
	opChanSend
	opChanRecv
	opNilChanSend
	opNilChanRecv
	opSelect
	opSelectForever
	opMutex          // sync.Mutex.Lock, also the one inside Once, Map, ...
	opRWWriteReaders // sync.RWMutex.Lock waiting for readers to leave
	opRWWriteWriter  // sync.RWMutex.Lock waiting for another writer
	opRWRead         // sync.RWMutex.RLock waiting for a writer
	opWaitGroup
	opCond
)

// isLock reports whether the operation acquires a lock.
func (o blockOp) isLock() bool {
	return o == opMutex || o == opRWWriteReaders || o == opRWWriteWriter || o == opRWRead
}

// blocking is how a group is blocked and where its own code asked for it.
type blocking struct {
	op blockOp
	// api is the outermost runtime or sync frame of the blocking call:
	// the sync method the program called ("sync.(*Once).doSlow"), or the
	// runtime's channel or select function.
	api string
	// site is the index in Group.Frames of the caller of api: the call
	// site of the blocking operation; -1 when the stack does not show it.
	site int
}

// isSyncPkg reports whether fn belongs to package sync or internal/sync.
func isSyncPkg(fn string) bool {
	return strings.HasPrefix(fn, "sync.") || strings.HasPrefix(fn, "internal/sync.")
}

// blockingOf derives how g is blocked from its frames, innermost first:
// the first frame that parks names the primitive, the sync frames above
// it name the method, and the frame after them is the call site.
//
// Only a parked goroutine is blocked: its innermost frame is
// runtime.gopark. One caught running inside the runtime's select or
// channel code (preempted, or on its way to park) is not.
func blockingOf(g *Group) blocking {
	b := blocking{site: -1}
	if len(g.Frames) == 0 || g.Frames[0].Function != "runtime.gopark" {
		return b
	}
	i := 0
	for ; i < len(g.Frames) && b.op == opNone; i++ {
		f := g.Frames[i]
		switch fn := f.Function; fn {
		case "runtime.chansend":
			b.op = opChanSend
			if s, _ := chanParkLines(); s > 0 && f.Line != s {
				b.op = opNilChanSend // chansend parks elsewhere only on a nil channel
			}
		case "runtime.chanrecv":
			b.op = opChanRecv
			if _, r := chanParkLines(); r > 0 && f.Line != r {
				b.op = opNilChanRecv
			}
		case "runtime.selectgo":
			b.op = opSelect
		case "runtime.block":
			b.op = opSelectForever
		case "sync.runtime_notifyListWait":
			b.op = opCond
		case "sync.runtime_SemacquireWaitGroup":
			b.op = opWaitGroup
		case "sync.runtime_SemacquireRWMutexR":
			b.op = opRWRead
		case "sync.runtime_SemacquireRWMutex":
			b.op = opRWWriteReaders
		case "internal/sync.runtime_SemacquireMutex", "sync.runtime_SemacquireMutex":
			b.op = opMutex
		case "sync.runtime_Semacquire":
			if g.HasFunction("sync.(*WaitGroup).Wait") {
				b.op = opWaitGroup // before Go 1.25
			}
		}
	}
	if b.op == opNone {
		return b
	}
	// Above the park: the runtime's own wrappers (chanrecv1, selectnbrecv)
	// and the sync methods; the first frame past them is the call site.
	for ; i < len(g.Frames); i++ {
		fn := g.Frames[i].Function
		if !isRuntime(fn) && !isSyncPkg(fn) {
			b.site = i
			break
		}
		switch fn {
		case "sync.(*RWMutex).Lock":
			if b.op == opMutex {
				b.op = opRWWriteWriter // the writers' mutex: another writer holds the RWMutex
			}
		}
		b.api = fn
	}
	if b.api == "" && i > 0 {
		b.api = g.Frames[i-1].Function
	}
	return b
}

// chanPark holds the lines of runtime.chansend and runtime.chanrecv where
// they park a goroutine on a non-nil channel, learnt once from the
// runtime itself (they differ between Go releases). Each function parks
// at one other line only: on a nil channel, forever.
var chanPark struct {
	once       sync.Once
	send, recv int
}

// chanParkLines returns the lines at which runtime.chansend and
// runtime.chanrecv park on a non-nil channel; 0 if they could not be
// learnt. The first call takes one goroutine profile.
func chanParkLines() (send, recv int) {
	chanPark.once.Do(func() { chanPark.send, chanPark.recv = probeChanPark() })
	return chanPark.send, chanPark.recv
}

// probeChanPark parks one goroutine sending and one receiving on fresh
// channels, reads their stacks from a goroutine profile (retrying until
// both are parked, at most about a second) and releases them.
func probeChanPark() (send, recv int) {
	sc, rc := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Go(func() { probeSend(sc) })
	wg.Go(func() { probeRecv(rc) })
	defer func() {
		<-sc
		close(rc)
		wg.Wait()
	}()
	sendFn, recvFn := ownFunc("probeSend"), ownFunc("probeRecv")
	for try := 0; try < 1000 && (send == 0 || recv == 0); try++ {
		if try > 0 {
			time.Sleep(time.Millisecond)
		}
		for _, g := range groupRecords(goroutineRecords()) {
			if len(g.Frames) < 2 || g.Frames[0].Function != "runtime.gopark" {
				continue // not parked (yet)
			}
			for _, f := range g.Frames[1:2] {
				switch {
				case f.Function == "runtime.chansend" && g.HasFunction(sendFn):
					send = f.Line
				case f.Function == "runtime.chanrecv" && g.HasFunction(recvFn):
					recv = f.Line
				}
			}
		}
	}
	return send, recv
}

//go:noinline
func probeSend(c chan<- int) { c <- 1 }

//go:noinline
func probeRecv(c <-chan int) { <-c }

// notYetRun reports whether the group is goroutines created and not yet
// run: a scheduling backlog, not goroutines blocked on anything.
func (g *Group) notYetRun() bool {
	return len(g.Frames) == 1 && g.Frames[0].Function == "runtime.goexit"
}
