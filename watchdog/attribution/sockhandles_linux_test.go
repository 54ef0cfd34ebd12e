package attribution

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestNetHandlesAtEMFILE: with sockets open and every descriptor in use, a snapshot given the
// pre-opened /proc/self/fd and NetHandles identifies the TCP sockets and counts TIME_WAIT
// without a note of failure; without NetHandles, the sockstat file cannot be opened and the
// notes say so.
func TestNetHandlesAtEMFILE(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for range 3 {
		c, s := dialAccept(t, ln)
		defer c.Close()
		defer s.Close()
	}
	dir, err := os.Open("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	h, err := OpenNetHandles("")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir("/proc/self/fd")
	lim := old
	lim.Cur = uint64(len(ents)) + 32
	for _, e := range ents { // descriptors numbered above the new limit stay open: allow for them
		if fd, err := strconv.ParseUint(e.Name(), 10, 64); err == nil && fd >= lim.Cur {
			lim.Cur = fd + 32
		}
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	leakDir := t.TempDir()
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for i := 0; ; i++ {
		f, err := os.Create(filepath.Join(leakDir, "leak-"+strconv.Itoa(i)))
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				t.Fatalf("create: %v", err)
			}
			break
		}
		files = append(files, f)
	}

	with, err := Take(Options{FDs: true, MaxGoroutines: -1, FDDir: dir, Net: h})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range with.Notes {
		if strings.Contains(n, "too many open files") {
			t.Errorf("with NetHandles at EMFILE: note %q", n)
		}
	}
	if est := with.FDs.TCPStates["ESTABLISHED"]; est < 6 {
		t.Errorf("with NetHandles at EMFILE: %d ESTABLISHED sockets, want the 6 opened; classes %v", est, with.FDs.Classes)
	}
	without, err := Take(Options{FDs: true, MaxGoroutines: -1, FDDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(without.Notes, "; "); !strings.Contains(notes, "too many open files") {
		t.Errorf("without NetHandles at EMFILE: notes %q do not say what could not be opened", notes)
	}
}
