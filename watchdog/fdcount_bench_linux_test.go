package watchdog

import (
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// openFDs raises the soft limit if needed and holds n more open descriptors until cleanup.
func openFDs(b *testing.B, n int) {
	b.Helper()
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	if lim.Cur < uint64(n)+256 {
		old := lim
		lim.Cur = min(lim.Max, uint64(n)+256)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			b.Skipf("cannot raise RLIMIT_NOFILE: %v", err)
		}
		b.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
	}
	files := make([]*os.File, 0, n)
	for range n {
		f, err := os.Open(os.DevNull)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	b.Cleanup(func() { closeAll(files) })
}

// BenchmarkFDCount compares our FD count (fstat of the pre-opened /proc/self/fd), procfs
// FileDescriptorsLen and a whole Collect of client_golang's process collector, at 10, 1000 and
// 10000 open descriptors; and the full tick at each size.
func BenchmarkFDCount(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("fds=%d", n), func(b *testing.B) {
			openFDs(b, n)
			b.Run("leakwatch", func(b *testing.B) { benchRead(b, testProbe(b).fds) })
			b.Run("leakwatch-getdents", func(b *testing.B) { benchRead(b, testProbe(b).countDirents) })
			b.Run("procfs", func(b *testing.B) { benchRead(b, procfsSelf(b).FileDescriptorsLen) })
			b.Run("client_golang-process-collect", func(b *testing.B) {
				c := collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})
				ch := make(chan prometheus.Metric, 64)
				b.ReportAllocs()
				for b.Loop() {
					c.Collect(ch)
					for len(ch) > 0 {
						<-ch
					}
				}
			})
			b.Run("tick", func(b *testing.B) { benchTicks(b, benchWatchdog(b)) })
		})
	}
}

// BenchmarkSyscallFloor is what a system call costs on this machine, to read the tick's figures
// against: the cheapest one (getppid) and an fstat of a regular file. Under nested
// virtualisation every system call pays a switch through the hypervisor; the FD count is one
// fstat, so the tick cannot be faster than fstat-file plus the count of the kernel's open-FD
// bitmap (BenchmarkFDCount/*/leakwatch).
func BenchmarkSyscallFloor(b *testing.B) {
	b.Run("getppid", func(b *testing.B) {
		for b.Loop() {
			syscall.Getppid()
		}
	})
	b.Run("fstat-file", func(b *testing.B) {
		f, err := os.Open(os.DevNull)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		var st syscall.Stat_t
		fd := int(f.Fd())
		for b.Loop() {
			if err := syscall.Fstat(fd, &st); err != nil {
				b.Fatal(err)
			}
		}
	})
}
