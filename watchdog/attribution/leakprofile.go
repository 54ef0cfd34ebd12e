package attribution

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime/pprof"
	"strconv"
	"strings"
)

// leakProfileName is the runtime's profile of goroutines proven leaked:
// present in Go 1.27, and in Go 1.26 built with
// GOEXPERIMENT=goroutineleakprofile.
const leakProfileName = "goroutineleak"

// LeakProfileAvailable reports whether this binary's runtime offers the
// goroutineleak profile (Go 1.27, or Go 1.26 built with
// GOEXPERIMENT=goroutineleakprofile). Safe for concurrent use.
func LeakProfileAvailable() bool { return pprof.Lookup(leakProfileName) != nil }

// leakStack is one stack of the goroutineleak profile with its count.
type leakStack struct {
	count int
	pcs   []uintptr
}

// collectLeakProfile writes the goroutineleak profile at debug=1 and
// parses it. Collecting it runs a garbage collection cycle.
// Text, not the proto (github.com/google/pprof/profile): 1.1 MiB more a collection, no time saved (BenchmarkLeakProfile).
func collectLeakProfile() ([]leakStack, bool, error) {
	p := pprof.Lookup(leakProfileName)
	if p == nil {
		return nil, false, nil
	}
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, 1); err != nil {
		return nil, true, fmt.Errorf("attribution: goroutineleak profile: %w", err)
	}
	st, err := parseCountProfile(&buf)
	return st, true, err
}

// parseCountProfile parses the debug=1 text of a count profile
// (goroutine, goroutineleak, threadcreate):
//
//	goroutineleak profile: total 3
//	3 @ 0x483eee 0x41591c 0x415517 0x52ea3e 0x48aba1
//	#	0x52ea3d	gl.leak.func1+0x1d	/tmp/gl/gl_test.go:3
//
// Only the "N @ pc..." lines matter: the "#" lines hide leading runtime
// frames, so stacks are symbolised again from the PCs.
func parseCountProfile(r io.Reader) ([]leakStack, error) {
	var out []leakStack
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] < '0' || line[0] > '9' {
			continue
		}
		n, rest, ok := strings.Cut(line, " @ ")
		if !ok {
			continue
		}
		count, err := strconv.Atoi(n)
		if err != nil || count < 0 {
			return nil, fmt.Errorf("attribution: bad count %q in profile", n)
		}
		var pcs []uintptr
		for _, f := range strings.Fields(rest) {
			pc, err := strconv.ParseUint(f, 0, 64)
			if err != nil {
				return nil, fmt.Errorf("attribution: bad pc %q in profile", f)
			}
			pcs = append(pcs, uintptr(pc))
		}
		out = append(out, leakStack{count: count, pcs: pcs})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("attribution: reading profile: %w", err)
	}
	return out, nil
}

// markLeaked sets Group.Leaked for groups whose stack the leak profile
// lists, and appends groups for leaked stacks absent from groups (when the
// goroutine profile was skipped). It returns the total proven leaked.
func markLeaked(groups []Group, leaks []leakStack) ([]Group, int) {
	idx := make(map[string]int, len(groups))
	for i := range groups {
		idx[groups[i].Key] = i
	}
	total := 0
	for _, l := range leaks {
		g := symbolise(l.pcs)
		total += l.count
		if i, ok := idx[g.Key]; ok {
			groups[i].Leaked += l.count
			// The leak profile is taken after the goroutine profile: goroutines that reached
			// their blocking point in between are proven leaked but were not yet counted.
			groups[i].Count = max(groups[i].Count, groups[i].Leaked)
			continue
		}
		g.Count, g.Leaked = l.count, l.count
		idx[g.Key] = len(groups)
		groups = append(groups, g)
	}
	return groups, total
}
