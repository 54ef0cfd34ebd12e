//go:build unix

package peers

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/shirou/gopsutil/mem"
	"github.com/shirou/gopsutil/process"

	"github.com/leakwatch/leakwatch/bench"
	"github.com/leakwatch/leakwatch/watchdog"
)

// holmesSample does what mosn.io/holmes v1.0.2 does once per CollectInterval (holmes.go,
// startDumpLoop; util.go, collect and getUsage) with its default options, through the same
// gopsutil version it pins (v3.20.11+incompatible):
//
//	getCPUCore       runtime.NumCPU()
//	getMemoryLimit   mem.VirtualMemory()                      reads /proc/meminfo
//	getUsage         process.NewProcess(pid)
//	                 p.Percent(time.Second)                   p.Times() (/proc/pid/stat), sleeps 1 s, p.Times()
//	                 p.MemoryInfo()                           /proc/pid/statm
//	                 runtime.NumGoroutine()
//	getThreadNum     pprof.Lookup("threadcreate").Count()
//
// Percent's one-second sleep is left out: it costs no CPU, though it holds holmes's loop for a
// second per sample. Holmes counts no descriptors.
func holmesSample(pid int32) error {
	cores := float64(runtime.NumCPU())
	vm, err := mem.VirtualMemory()
	if err != nil {
		return err
	}
	p, err := process.NewProcess(pid)
	if err != nil {
		return err
	}
	t0, err := p.Times()
	if err != nil {
		return err
	}
	t1, err := p.Times()
	if err != nil {
		return err
	}
	mi, err := p.MemoryInfo()
	if err != nil {
		return err
	}
	g := runtime.NumGoroutine()
	th := pprof.Lookup("threadcreate").Count()
	sink = (t1.Total()-t0.Total())/cores + float64(mi.RSS)/float64(vm.Total) + float64(g+th)
	return nil
}

var sink float64

// BenchmarkSample compares one sample of each watcher in the same run: a watchdog tick, timed
// by the watchdog itself at a 200µs interval past its first window (bench.TickCost), beside
// holmes's per-interval collection and its parts, and the gopsutil calls a holmes-like watcher
// would add for descriptors and threads.
func BenchmarkSample(b *testing.B) {
	pid := int32(os.Getpid())
	b.Run("leakwatch-tick", func(b *testing.B) { benchTick(b) })
	b.Run("holmes-collect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := holmesSample(pid); err != nil {
				b.Fatal(err)
			}
		}
	})
	parts := []struct {
		name string
		fn   func(p *process.Process) error
	}{
		{"gopsutil-NewProcess", func(*process.Process) error { _, err := process.NewProcess(pid); return err }},
		{"gopsutil-VirtualMemory", func(*process.Process) error { _, err := mem.VirtualMemory(); return err }},
		{"gopsutil-Times", func(p *process.Process) error { _, err := p.Times(); return err }},
		{"gopsutil-MemoryInfo", func(p *process.Process) error { _, err := p.MemoryInfo(); return err }},
		{"pprof-threadcreate-Count", func(*process.Process) error { pprof.Lookup("threadcreate").Count(); return nil }},
		{"gopsutil-NumFDs", func(p *process.Process) error { _, err := p.NumFDs(); return err }},
		{"gopsutil-NumThreads", func(p *process.Process) error { _, err := p.NumThreads(); return err }},
	}
	for _, c := range parts {
		b.Run(c.name, func(b *testing.B) {
			p, err := process.NewProcess(pid)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := c.fn(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFDs compares the watchdog's tick (which counts descriptors with one fstat) with
// gopsutil's NumFDs (which lists /proc/pid/fd) as the number of open descriptors grows.
func BenchmarkFDs(b *testing.B) {
	pid := int32(os.Getpid())
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("fds=%d", n), func(b *testing.B) {
			openFDs(b, n)
			b.Run("leakwatch-tick", func(b *testing.B) { benchTick(b) })
			b.Run("gopsutil-NumFDs", func(b *testing.B) {
				p, err := process.NewProcess(pid)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := p.NumFDs(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// benchTick times b.N ticks of a running watchdog at ScaledConfig(200µs), past its first window
// so the detector does its full work: ns/op is their mean wall time on the sampling goroutine
// (Snapshot().Cost), max-ns the slowest, cpu-ns/tick the process's CPU time over the run (it does
// nothing else meanwhile) per tick, the runtime's timer and wake-up included. B/op under
// -benchmem counts the whole process, the Snapshot polls of bench.TickCost included.
func benchTick(b *testing.B) {
	b.Helper()
	w, err := watchdog.Start(context.Background(), bench.ScaledConfig(200*time.Microsecond))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	if _, err := bench.TickCost(context.Background(), w, 300); err != nil { // the first window
		b.Fatal(err)
	}
	cpu0 := processCPU(b)
	b.ResetTimer()
	cost, err := bench.TickCost(context.Background(), w, uint64(b.N))
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cost.Mean), "ns/op")
	b.ReportMetric(float64(cost.Max), "max-ns")
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(cost.Ticks), "cpu-ns/tick")
}

// processCPU returns the user and system CPU time the process has used (getrusage).
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// openFDs raises the soft RLIMIT_NOFILE if needed and holds n more open descriptors until the
// benchmark ends.
func openFDs(b *testing.B, n int) {
	b.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Cur < uint64(n)+256 {
		old := lim
		lim.Cur = min(lim.Max, uint64(n)+256)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			b.Skipf("cannot raise RLIMIT_NOFILE: %v", err)
		}
		b.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
	}
	files := make([]*os.File, 0, n)
	b.Cleanup(func() {
		for _, f := range files {
			f.Close()
		}
	})
	for range n {
		f, err := os.Open(os.DevNull)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
}
