package attribution

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFDDirWorksOutOfDescriptors fills every descriptor with files under one directory and
// requires Take, given a pre-opened /proc/self/fd, to still classify them by directory.
func TestFDDirWorksOutOfDescriptors(t *testing.T) {
	dir, err := os.Open("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	leakDir := t.TempDir()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir("/proc/self/fd")
	lim := old
	lim.Cur = uint64(len(ents)) + 48
	for _, e := range ents { // descriptors numbered above the new limit stay open: allow for them
		if n := len(e.Name()); n > 0 {
			var fd uint64
			for _, c := range e.Name() {
				fd = fd*10 + uint64(c-'0')
			}
			if fd >= lim.Cur {
				lim.Cur = fd + 48
			}
		}
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for i := 0; ; i++ {
		f, err := os.Create(filepath.Join(leakDir, "leak-"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+string(rune('a'+i/26%26))))
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				t.Fatalf("create: %v", err)
			}
			break
		}
		files = append(files, f)
	}
	// Without the pre-opened directory nothing can be read now.
	if _, _, err := readFDTable("/proc", false, nil, nil); !errors.Is(err, syscall.EMFILE) {
		t.Fatalf("readFDTable without FDDir at the limit = %v, want EMFILE (the test did not exhaust descriptors)", err)
	}
	opts := Options{FDs: true, MaxGoroutines: -1, FDDir: dir}
	snap, err := Take(opts)
	if err != nil {
		t.Fatalf("Take with FDDir at EMFILE: %v", err)
	}
	if snap.FDs == nil {
		t.Fatal("no FD table")
	}
	var got int
	for _, c := range snap.FDs.Classes {
		if c.Kind == FDFile && strings.Contains(c.Class, leakDir) {
			got += c.Count
		}
	}
	if got != len(files) {
		t.Errorf("files under %s = %d, want %d; classes %+v", leakDir, got, len(files), snap.FDs.Classes)
	}
}
