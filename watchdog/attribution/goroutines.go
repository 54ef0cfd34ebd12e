package attribution

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
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
