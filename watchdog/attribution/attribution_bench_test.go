package attribution

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// park starts n goroutines blocked receiving from stop, at 8 different
// stack depths (8 groups, 3 to 10 frames of user code); it returns when all
// are parked. Closing stop and waiting on the WaitGroup releases them.
func park(b *testing.B, n int, stop chan struct{}) *sync.WaitGroup {
	b.Helper()
	var wg, started sync.WaitGroup
	started.Add(n)
	for i := range n {
		wg.Go(func() { parkDepth(i%8, &started, stop) })
	}
	started.Wait()
	return &wg
}

//go:noinline
func parkDepth(d int, started *sync.WaitGroup, stop chan struct{}) {
	if d > 0 {
		parkDepth(d-1, started, stop)
		return
	}
	started.Done()
	<-stop
}

// openFDs opens n descriptors: one in ten a loopback TCP socket (half of
// them client ends, half server ends), one in ten a pipe end, the rest
// regular files in one directory. It raises RLIMIT_NOFILE's soft limit to
// the hard one if needed; cleanup closes everything and restores it.
func openFDs(b *testing.B, n int) func() {
	b.Helper()
	restore, err := raiseNoFile(uint64(n + 256))
	if err != nil {
		b.Skip(err)
	}
	var closers []func() error
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	closers = append(closers, ln.Close)
	for range n / 20 {
		c, s := dialAccept(b, ln)
		// Closed with a reset, not a FIN: a closed connection would otherwise leave a
		// TIME_WAIT socket for a minute, which every later sock_diag dump walks.
		c.(*net.TCPConn).SetLinger(0)
		s.(*net.TCPConn).SetLinger(0)
		closers = append(closers, c.Close, s.Close)
	}
	for range n / 20 {
		r, w, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		closers = append(closers, r.Close, w.Close)
	}
	dir := b.TempDir()
	name := filepath.Join(dir, "f")
	if err := os.WriteFile(name, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	for len(closers) < n {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		closers = append(closers, f.Close)
	}
	return func() {
		for _, c := range closers {
			c()
		}
		restore()
	}
}

// costTracker adds the worst cost figures over the loop as metrics.
type costTracker struct {
	maxPause, maxCall, fds, gor time.Duration
	cpu0                        time.Duration
	long                        int // snapshots with a pause over 1 ms
}

// start notes the CPU time before the loop.
func (c *costTracker) start() { c.cpu0 = cpuTime() }

func (c *costTracker) add(s *Snapshot) {
	c.maxPause = max(c.maxPause, s.Cost.MaxPause)
	if s.Cost.MaxPause > time.Millisecond {
		c.long++
	}
	c.maxCall = max(c.maxCall, s.Cost.ProfileCall)
	c.fds += s.Cost.FDs
	c.gor += s.Cost.Goroutines
}

func (c *costTracker) report(b *testing.B) {
	b.ReportMetric(float64(c.maxPause.Microseconds()), "max-pause-µs")
	// The share of snapshots with a pause over 1 ms: on a shared VM the
	// longest pause of a run is luck; over a few hundred snapshots, this
	// compares two ways of taking them.
	b.ReportMetric(100*float64(c.long)/float64(b.N), "%pause>1ms")
	b.ReportMetric(float64(c.maxCall.Microseconds()), "max-profile-call-µs")
	b.ReportMetric(float64(c.gor.Microseconds())/float64(b.N), "goroutines-µs/op")
	b.ReportMetric(float64(c.fds.Microseconds())/float64(b.N), "fds-µs/op")
	// CPU time of the whole process (user + system) per snapshot: on a
	// loaded machine, wall time overstates the work.
	b.ReportMetric(float64((cpuTime()-c.cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	// The sock_diag dump walks the namespace's whole TCP table: its cost
	// grows with TIME_WAIT sockets left by earlier tests, not ours.
	if tw, ok := namespaceTimeWait(); ok {
		b.ReportMetric(float64(tw), "ns-timewait")
	}
}

// namespaceTimeWait reads the TIME_WAIT count of the network namespace
// from /proc/net/sockstat ("TCP: inuse 5 orphan 0 tw 3000 ...").
func namespaceTimeWait() (int, bool) {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "TCP:" {
			continue
		}
		for i := 1; i+1 < len(f); i += 2 {
			if f[i] == "tw" {
				n, err := strconv.Atoi(f[i+1])
				return n, err == nil
			}
		}
	}
	return 0, false
}

func BenchmarkTakeGoroutines(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			stop := make(chan struct{})
			wg := park(b, n, stop)
			defer func() { close(stop); wg.Wait() }()
			var ct costTracker
			ct.start()
			b.ReportAllocs()
			for b.Loop() {
				s, err := Take(Options{MaxGoroutines: 200_000})
				if err != nil || len(s.Groups) < 8 {
					b.Fatalf("Take: %d groups, %v", len(s.Groups), err)
				}
				ct.add(s)
			}
			ct.report(b)
		})
	}
}

func BenchmarkTakeFDs(b *testing.B) {
	if !fdsSupported {
		b.Skip("no /proc")
	}
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			defer openFDs(b, n)()
			var ct costTracker
			ct.start()
			b.ReportAllocs()
			for b.Loop() {
				s, err := Take(Options{MaxGoroutines: -1, FDs: true})
				if err != nil || s.FDs.Total < n {
					b.Fatalf("Take: %v fds, %v", s.FDs, err)
				}
				ct.add(s)
			}
			ct.report(b)
		})
	}
}

// BenchmarkAttribution is the whole alert path at the design's target:
// 10 000 parked goroutines and 10 000 open descriptors, snapshot, diff
// against a baseline and diagnosis.
func BenchmarkAttribution(b *testing.B) { benchAttribution(b, DefaultOptions()) }

// BenchmarkAttributionOverlap is BenchmarkAttribution with Options.Overlap:
// the descriptors read while the goroutine profile is taken. Compare the
// two over a few hundred snapshots (-benchtime 200x) for the share of
// snapshots with a pause over 1 ms.
func BenchmarkAttributionOverlap(b *testing.B) {
	o := DefaultOptions()
	o.Overlap = true
	benchAttribution(b, o)
}

func benchAttribution(b *testing.B, o Options) {
	if !fdsSupported {
		b.Skip("no /proc")
	}
	defer openFDs(b, 10_000)()
	stop := make(chan struct{})
	wg := park(b, 10_000, stop)
	defer func() { close(stop); wg.Wait() }()
	base, err := Take(o)
	if err != nil {
		b.Fatal(err)
	}
	var ct costTracker
	ct.start()
	b.ReportAllocs()
	for b.Loop() {
		s, err := Take(o)
		if err != nil {
			b.Fatal(err)
		}
		_ = Diagnose(Diff(base, s), Context{})
		ct.add(s)
	}
	ct.report(b)
}

// BenchmarkReadlinkFloor is the floor for the descriptor part: one plain
// readlink of /proc/self/fd/N per open descriptor, nothing else. Compare
// BenchmarkTakeFDs with it to see what classification adds on a given
// machine (the kernel's cost varies tenfold with load).
func BenchmarkReadlinkFloor(b *testing.B) {
	if !fdsSupported {
		b.Skip("no /proc")
	}
	defer openFDs(b, 10_000)()
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		b.Fatal(err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		b.Fatal(err)
	}
	var ct costTracker
	ct.start()
	for b.Loop() {
		for _, n := range names {
			os.Readlink("/proc/self/fd/" + n)
		}
	}
	ct.report(b)
}

// BenchmarkSocketQueries compares the two ways of learning what this process's 1 000 sockets
// are (the descriptors of openFDs(10 000): 500 loopback connections, both ends): asking each
// socket (getsockname, TCP_INFO, getpeername), which costs per socket; and one sock_diag dump
// of the namespace's TCP sockets, all states or TIME_WAIT only, which walks the kernel's whole
// established hash table once per address family whatever the number of sockets.
func BenchmarkSocketQueries(b *testing.B) {
	if !fdsSupported {
		b.Skip("no /proc")
	}
	defer openFDs(b, 10_000)()
	links, err := readFDLinks("/proc/self/fd", true, nil)
	if err != nil {
		b.Fatal(err)
	}
	var socks []int
	for _, l := range links {
		if strings.HasPrefix(l.target, "socket:[") {
			socks = append(socks, l.num)
		}
	}
	b.Run("ask-each", func(b *testing.B) {
		if queryOwnSocket == nil {
			b.Skip("sockets are not asked on this architecture")
		}
		for b.Loop() {
			for _, fd := range socks {
				if _, ok := queryOwnSocket(fd); !ok {
					b.Fatalf("fd %d: not a socket", fd)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(socks)), "ns/socket")
	})
	for _, d := range []struct {
		name   string
		states uint32
	}{{"dump-all-states", inetDiagAllStates}, {"dump-time-wait", 1 << TCPTimeWait}} {
		b.Run(d.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				n = 0
				if err := diagDump(ipprotoTCP, d.states, func(netEntry) { n++ }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "sockets")
		})
	}
}

// BenchmarkPauseFloor is the machine's floor for the pauses above: one
// trivial stop-the-world (runtime.ReadMemStats) per op, with nothing else
// running (idle), and while another goroutine runs on a second P
// (running), as the collector's workers or the host's goroutines do during
// a snapshot. The share of them over 1 ms (%pause>1ms) is what any
// stop-the-world costs here, whoever asks for it; a snapshot has two of
// its own (the goroutine profile's) and those of the collection cycles its
// allocations bring about.
func BenchmarkPauseFloor(b *testing.B) {
	b.Run("idle", func(b *testing.B) { benchPauses(b) })
	b.Run("running", func(b *testing.B) {
		if runtime.GOMAXPROCS(0) < 2 {
			b.Skip("needs GOMAXPROCS >= 2")
		}
		var stop atomic.Bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			for n := 0; !stop.Load(); n++ {
			}
		}()
		defer func() { stop.Store(true); <-done }()
		benchPauses(b)
	})
}

func benchPauses(b *testing.B) {
	var (
		ms       runtime.MemStats
		long     int
		maxPause time.Duration
	)
	for b.Loop() {
		pm := startPauses()
		runtime.ReadMemStats(&ms)
		_, p := pm.stop()
		maxPause = max(maxPause, p)
		if p > time.Millisecond {
			long++
		}
		time.Sleep(200 * time.Microsecond) // let the other goroutine run between pauses
	}
	b.ReportMetric(float64(maxPause.Microseconds()), "max-pause-µs")
	b.ReportMetric(100*float64(long)/float64(b.N), "%pause>1ms")
}
