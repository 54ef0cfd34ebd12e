package attribution

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestReadLinksOwnMatchesReadlink opens descriptors of every kind the fstat shortcut of
// readLinksAt treats differently (the same file many times, distinct files, a deleted file, a
// directory, /dev/null, a named FIFO, pipes, TCP, UDP and unix sockets, and anonymous inodes of
// several kinds, which share one inode) and requires the shortcut to give every descriptor the
// target a readlink gives it.
func TestReadLinksOwnMatchesReadlink(t *testing.T) {
	dir := t.TempDir()
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	open := func(name string, flag int) {
		f, err := os.OpenFile(name, flag, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, f.Close)
	}
	same := filepath.Join(dir, "same.log")
	for range 5 {
		open(same, os.O_RDWR|os.O_CREATE)
	}
	for _, n := range []string{"a", "b", "c"} {
		open(filepath.Join(dir, n), os.O_RDWR|os.O_CREATE)
	}
	gone := filepath.Join(dir, "gone")
	open(gone, os.O_RDWR|os.O_CREATE)
	open(gone, os.O_RDONLY)
	os.Remove(gone)
	open(dir, os.O_RDONLY)
	open(os.DevNull, os.O_RDONLY)
	open(os.DevNull, os.O_WRONLY)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	open(fifo, os.O_RDWR) // O_RDWR: does not wait for a peer
	for range 2 {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, r.Close, w.Close)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closers = append(closers, ln.Close)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	closers = append(closers, c.Close)
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closers = append(closers, u.Close)
	ua, ub, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	closers = append(closers, ua.Close, ub.Close)
	// Anonymous inodes: two eventfds and two epoll instances.
	for range 2 {
		efd, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC, 0)
		if errno != 0 {
			t.Fatal(errno)
		}
		ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, func() error { return syscall.Close(int(efd)) }, func() error { return syscall.Close(ep) })
	}

	// A descriptor numbered far above the others: the walk stops early on such a sparse table
	// and lists the rest.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	high := int(min(lim.Cur, 1<<16)) - 1
	if ents, _ := os.ReadDir("/proc/self/fd"); high < 2*len(ents)+300 {
		t.Fatalf("RLIMIT_NOFILE %d leaves no room for a sparse descriptor table", lim.Cur)
	}
	null, err := os.Open(os.DevNull) // not stdin: a test binary may run without one
	if err != nil {
		t.Fatal(err)
	}
	closers = append(closers, null.Close)
	if err := syscall.Dup3(int(null.Fd()), high, syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	closers = append(closers, func() error { return syscall.Close(high) })

	// Anonymous pipes are told from named FIFOs by the pipe file system's device.
	if pipefsDev() == 0 {
		t.Error("the pipe file system's device is unknown: every pipe costs a readlink")
	}

	// Through a pre-opened directory (as the watchdog does), and through one opened by the call.
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var own []fdLinkEntry
	for _, open := range []*os.File{d, nil} {
		plain, err := readFDLinks("/proc/self/fd", false, open)
		if err != nil {
			t.Fatal(err)
		}
		own, err = readFDLinks("/proc/self/fd", true, open)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(plain, func(a, b fdLinkEntry) int { return a.num - b.num })
		slices.SortFunc(own, func(a, b fdLinkEntry) int { return a.num - b.num })
		if !slices.Equal(plain, own) {
			t.Errorf("fstat walk and readlink disagree (pre-opened directory: %v):\nreadlink: %v\nwalk:     %v", open != nil, plain, own)
		}
		if !slices.ContainsFunc(own, func(l fdLinkEntry) bool { return l.num == high }) {
			t.Errorf("descriptor %d (far above the others) is missing", high)
		}
		dirs := 0
		for _, l := range own {
			if open != nil && l.num == int(open.Fd()) {
				t.Errorf("the walk lists the directory descriptor it reads: %v", l)
			}
			if strings.HasPrefix(l.target, "/proc/") && strings.HasSuffix(l.target, "/fd") {
				dirs++
			}
		}
		// With a pre-opened directory, it is the only one and is left out; without, the
		// call's own is left out and the pre-opened one is listed.
		if want := map[bool]int{true: 0, false: 1}[open != nil]; dirs != want {
			t.Errorf("pre-opened directory %v: %d /proc/<pid>/fd descriptors listed, want %d", open != nil, dirs, want)
		}
	}
	var kinds []string
	for _, l := range own {
		if strings.HasPrefix(l.target, "anon_inode:") && !slices.Contains(kinds, l.target) {
			kinds = append(kinds, l.target)
		}
	}
	if !slices.Contains(kinds, "anon_inode:[eventfd]") || !slices.Contains(kinds, "anon_inode:[eventpoll]") {
		t.Errorf("anonymous inodes read as %v, want eventfd and eventpoll among them", kinds)
	}
	if n := countPrefix(own, "socket:["); n < 4 {
		t.Errorf("%d sockets, want at least the 4 opened", n)
	}
	if n := countPrefix(own, same); n != 5 {
		t.Errorf("%d descriptors on %s, want 5", n, same)
	}
	if n := countPrefix(own, gone+" (deleted)"); n != 2 {
		t.Errorf("%d descriptors on the deleted file, want 2", n)
	}
}

func countPrefix(links []fdLinkEntry, p string) int {
	n := 0
	for _, l := range links {
		if strings.HasPrefix(l.target, p) {
			n++
		}
	}
	return n
}

// socketPair returns the two ends of a connected unix stream socket pair as files.
func socketPair() (*os.File, *os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b"), nil
}
