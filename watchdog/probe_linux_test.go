//go:build linux

package watchdog

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/procfs"
)

// withFDLimit lowers the soft RLIMIT_NOFILE to n for the test and restores it afterwards.
func withFDLimit(t *testing.T, n uint64) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// fillFDs opens /dev/null until the process runs out of descriptors and returns them.
func fillFDs(t *testing.T) []*os.File {
	t.Helper()
	var files []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				t.Fatalf("open: %v, want EMFILE", err)
			}
			return files
		}
		files = append(files, f)
	}
}

// fdsAtOrAbove counts the open descriptors numbered n or more.
func fdsAtOrAbove(t *testing.T, n uint64) uint64 {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var c uint64
	for _, e := range ents {
		if fd, err := strconv.ParseUint(e.Name(), 10, 64); err == nil && fd >= n {
			c++
		}
	}
	return c // the directory ReadDir itself held is closed by now, and was below n
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// testProbe returns a probe of the real /proc, closed at cleanup.
func testProbe(tb testing.TB) *osProbe {
	tb.Helper()
	p := newOSProbe("")
	tb.Cleanup(p.close)
	return p
}

// procfsSelf returns procfs's view of this process, to check the probe's figures against.
func procfsSelf(tb testing.TB) procfs.Proc {
	tb.Helper()
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		tb.Fatal(err)
	}
	self, err := fs.Self()
	if err != nil {
		tb.Fatal(err)
	}
	return self
}

// benchRead runs read b.N times, reporting allocations, and fails on its first error.
func benchRead[T any](b *testing.B, read func() (T, error)) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := read(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFDCountMatchesProcfs(t *testing.T) {
	p, self := testProbe(t), procfsSelf(t)
	got, err := p.fds()
	if err != nil {
		t.Fatal(err)
	}
	want, err := self.FileDescriptorsLen()
	if err != nil {
		t.Fatal(err)
	}
	if int(got) != want {
		t.Errorf("fds() = %v, procfs FileDescriptorsLen = %d", got, want)
	}
	// The getdents path on the same open directory agrees with st_size.
	n, err := p.countDirents()
	if err != nil || n != got {
		t.Errorf("countDirents() = %v, %v; fstat size = %v", n, err, got)
	}
}

func TestFDCountExactAtLimit(t *testing.T) {
	p := testProbe(t)
	cur, err := p.fds()
	if err != nil {
		t.Fatal(err)
	}
	limit := uint64(cur) + 64
	above := fdsAtOrAbove(t, limit) // open before the limit was lowered: they stay open
	withFDLimit(t, limit)
	files := fillFDs(t)
	defer closeAll(files)
	want := limit + above
	got, err := p.fds()
	if err != nil {
		t.Fatalf("fds() at the limit: %v", err)
	}
	if uint64(got) != want {
		t.Errorf("fds() at the limit = %v, want %d (limit %d + %d above it)", got, want, limit, above)
	}
	n, err := p.countDirents()
	if err != nil || uint64(n) != want {
		t.Errorf("countDirents() at the limit = %v, %v, want %d", n, err, want)
	}
	l, err := p.fdLimit()
	if err != nil || uint64(l) != limit {
		t.Errorf("fdLimit() = %v, %v, want %d", l, err, limit)
	}
}

func TestOutOfFDsGoesCritical(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Attribution.Disabled = true
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(c.Interval)
		fds := series(t, w.Snapshot(), SeriesFDs)
		limit := uint64(fds.Value) + 32
		above := fdsAtOrAbove(t, limit)
		withFDLimit(t, limit)
		files := fillFDs(t)
		time.Sleep(3 * c.Window)
		s := w.Snapshot()
		closeAll(files)
		got := series(t, s, SeriesFDs)
		if uint64(got.Value) != limit+above || got.Errors != 0 {
			t.Errorf("fds at the limit = %+v, want value %d and no errors", got, limit+above)
		}
		if got.Level != LevelCritical || got.Cause != CauseLimit {
			t.Errorf("fds level = %v cause %v, want critical by limit", got.Level, got.Cause)
		}
		var reason string
		for _, a := range s.Alerts {
			if a.Series == SeriesFDs && a.Level == LevelCritical {
				reason = a.Reason
			}
		}
		if !strings.Contains(reason, "limit") {
			t.Errorf("critical fds alert reason = %q, want it to name the limit", reason)
		}
	})
}
