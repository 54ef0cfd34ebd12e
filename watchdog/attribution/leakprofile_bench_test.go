package attribution

import (
	"bytes"
	"fmt"
	"runtime/pprof"
	"slices"
	"testing"

	"github.com/google/pprof/profile"
)

// BenchmarkLeakProfile is why collectLeakProfile reads the goroutineleak profile's debug=1
// text and not its proto through github.com/google/pprof/profile: both collect the profile
// (one garbage collection cycle each) and return the same stacks and counts
// (TestLeakProfileProtoMatchesText), at 100, 1000 and 10000 goroutines proven leaked, spread
// over leakDepths stacks. cpu-ns/op is the process's CPU time per collection (the collection's
// garbage collection runs on every core), steadier than ns/op on a busy machine. It needs the goroutineleak profile (GOEXPERIMENT=goroutineleakprofile
// with Go 1.26, or Go 1.27) and skips without it. The goroutines it leaks stay leaked for the
// life of the test binary.
//
//	GOEXPERIMENT=goroutineleakprofile go test -run '^$' -bench BenchmarkLeakProfile -benchmem -count 6 ./watchdog/attribution
func BenchmarkLeakProfile(b *testing.B) {
	if !LeakProfileAvailable() {
		b.Skip("goroutineleak profile unavailable: run with GOEXPERIMENT=goroutineleakprofile (Go 1.26) or Go 1.27")
	}
	for _, n := range []int{100, 1000, 10000} {
		leakUpTo(b, n)
		for _, r := range []struct {
			name    string
			collect func() ([]leakStack, error)
		}{
			{"text", collectLeakText},
			{"proto", collectLeakProto},
		} {
			b.Run(fmt.Sprintf("leaked=%d/reader=%s", n, r.name), func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					if _, err := r.collect(); err != nil {
						b.Fatal(err)
					}
				}
				if cpu := cpuTime() - cpu0; cpu > 0 { // 0 where cpuTime cannot tell
					b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}

// TestLeakProfileProtoMatchesText: the proto reader of BenchmarkLeakProfile returns what
// collectLeakProfile returns, so the benchmark compares two ways to the same result.
func TestLeakProfileProtoMatchesText(t *testing.T) {
	if !LeakProfileAvailable() {
		t.Skip("goroutineleak profile unavailable: run with GOEXPERIMENT=goroutineleakprofile (Go 1.26) or Go 1.27")
	}
	leakUpTo(t, 2*leakDepths)
	// Another goroutine of the binary may be proven leaked between two collections: compare
	// a proto read with two equal text reads around it.
	for range 100 {
		before, err := collectLeakText()
		if err != nil {
			t.Fatal(err)
		}
		proto, err := collectLeakProto()
		if err != nil {
			t.Fatal(err)
		}
		after, err := collectLeakText()
		if err != nil {
			t.Fatal(err)
		}
		if !equalLeaks(before, after) {
			continue
		}
		if !equalLeaks(proto, before) {
			t.Fatalf("proto reader = %q, text reader = %q", leakKeys(proto), leakKeys(before))
		}
		if len(before) < leakDepths {
			t.Fatalf("text reader = %d stacks, want at least the %d of leakUpTo", len(before), leakDepths)
		}
		return
	}
	t.Fatal("the goroutineleak profile changed between every two collections in 100 tries")
}

// collectLeakText is the production reader: the debug=1 text through parseCountProfile.
func collectLeakText() ([]leakStack, error) {
	st, _, err := collectLeakProfile()
	return st, err
}

// collectLeakProto reads the same profile from its proto (debug=0) with
// github.com/google/pprof/profile.
func collectLeakProto() ([]leakStack, error) {
	var buf bytes.Buffer
	if err := pprof.Lookup(leakProfileName).WriteTo(&buf, 0); err != nil {
		return nil, err
	}
	p, err := profile.Parse(&buf)
	if err != nil {
		return nil, err
	}
	out := make([]leakStack, 0, len(p.Sample))
	for _, s := range p.Sample {
		pcs := make([]uintptr, len(s.Location))
		for i, l := range s.Location {
			pcs[i] = uintptr(l.Address) + 1 // the proto holds call addresses, symbolise return addresses
		}
		out = append(out, leakStack{count: int(s.Value[0]), pcs: pcs})
	}
	return out, nil
}

// leakDepths is how many different stacks leakUpTo's goroutines block on.
const leakDepths = 8

// leaked counts the goroutines leakUpTo has leaked in this test binary.
var leaked int

// leakUpTo leaks goroutines until leakUpTo has leaked n in this binary, each blocked forever
// sending on a channel nothing else references, at leakDepths stack depths; it returns when
// the goroutineleak profile proves them all.
func leakUpTo(tb testing.TB, n int) {
	tb.Helper()
	for ; leaked < n; leaked++ {
		ch := make(chan int)
		d := leaked % leakDepths
		go leakAtDepth(d, ch)
	}
	for range 1000 {
		st, err := collectLeakText()
		if err != nil {
			tb.Fatal(err)
		}
		total := 0
		for _, s := range st {
			if g := symbolise(s.pcs); g.Top.Function == pkgPath+".leakAtDepth" {
				total += s.count
			}
		}
		if total >= n {
			return
		}
	}
	tb.Fatalf("the goroutineleak profile did not prove the %d goroutines of leakUpTo in 1000 collections", n)
}

// leakAtDepth blocks forever sending on ch, d calls deep.
//
//go:noinline
func leakAtDepth(d int, ch chan int) {
	if d > 0 {
		leakAtDepth(d-1, ch)
		return
	}
	ch <- 1
}

// equalLeaks reports whether a and b hold the same stacks, as markLeaked sees them (by the
// key of their symbolised frames), with the same counts.
func equalLeaks(a, b []leakStack) bool { return slices.Equal(leakKeys(a), leakKeys(b)) }

// leakKeys returns each stack of st as "count key", sorted.
func leakKeys(st []leakStack) []string {
	out := make([]string, len(st))
	for i, s := range st {
		out[i] = fmt.Sprintf("%d %s", s.count, symbolise(s.pcs).Key)
	}
	slices.Sort(out)
	return out
}
