//go:build linux

package attribution

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// readFDLinks reads the link target of every descriptor in dir, a
// /proc/<pid>/fd directory. Descriptors closed meanwhile are skipped, and
// so is the directory's own descriptor. With open set, that already open
// directory is used instead of opening one, and no descriptor is needed.
//
// Reading a link is the costly part: a readlink of /proc/self/fd/N costs
// the kernel a lookup and a path build (1.5-6 µs here, 15-60 ms at 10 000
// descriptors), and listing the directory instantiates an entry per
// descriptor (about 1 µs each). With own set (dir is this process's own
// table) both are mostly avoided; see [fdWalker.walk]. Otherwise dir is
// listed with getdents and each link read with readlinkat relative to it,
// which spares the kernel a path walk from the root per descriptor.
func readFDLinks(dir string, own bool, open *os.File) ([]fdLinkEntry, error) {
	var dfd int
	if open != nil {
		dfd = int(open.Fd())
	} else {
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("attribution: fd table: open %s: %w", dir, err)
		}
		defer unix.Close(fd)
		dfd = fd
	}
	w := newFDWalker(dfd, own)
	from := 0
	if own {
		var done bool
		if from, done = w.walk(); done {
			return w.links, nil
		}
	}
	// List the directory, and read the descriptors numbered from on.
	if _, err := unix.Seek(dfd, 0, 0); err != nil {
		return nil, fmt.Errorf("attribution: fd table: seek %s: %w", dir, err)
	}
	var names []string
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Getdents(dfd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("attribution: fd table: getdents %s: %w", dir, err)
		}
		if n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	for _, s := range names {
		num, err := strconv.Atoi(s)
		switch {
		case err != nil || num < from:
		case own && num == dfd: // our own directory descriptor
		case own:
			w.stat(num)
		case w.readlink(num) && num == dfd && strings.HasSuffix(w.links[len(w.links)-1].target, "/fd"):
			w.links = w.links[:len(w.links)-1] // most likely our own directory descriptor
		}
	}
	return w.links, nil
}

// fdWalker reads descriptor links into links.
type fdWalker struct {
	dfd   int // the /proc/<pid>/fd directory
	links []fdLinkEntry
	seen  map[devIno]string // with own: shareable targets by inode
	// pipeDev is the pipe file system's device (0 if unknown), with own.
	pipeDev uint64
	name    [24]byte
	target  []byte
}

type devIno struct{ dev, ino uint64 }

func newFDWalker(dfd int, own bool) *fdWalker {
	w := &fdWalker{dfd: dfd, target: make([]byte, 4096)}
	if own {
		w.seen = make(map[devIno]string)
		w.pipeDev = pipefsDev()
	}
	return w
}

// walk visits this process's own descriptors by number, from 0, with
// fstat (about 0.3-0.9 µs) instead of listing /proc/self/fd, until it has
// found as many as the directory's size says are open (Linux 6.2+). It
// stops early on a sparse table (after 2 x count + 256 numbers) and
// returns the number to go on from with a listing; done reports that
// every descriptor was found. Descriptors opened or closed during the
// walk may be missed or counted, as with any listing.
func (w *fdWalker) walk() (next int, done bool) {
	var st unix.Stat_t
	if fstatRetry(w.dfd, &st) != nil || st.Size <= 0 {
		return 0, false // an older kernel: the size is 0
	}
	count := int(st.Size)
	limit := 2*count + 256
	w.links = make([]fdLinkEntry, 0, count)
	found := 0
	for n := 0; found < count; n++ {
		if n >= limit {
			return n, false
		}
		if n == w.dfd {
			found++
			continue
		}
		if w.stat(n) {
			found++
		}
	}
	return 0, true
}

// stat reads the link of this process's descriptor num after an fstat of
// num itself, and reports whether num was open:
//   - a socket's target is "socket:[inode]", and an anonymous pipe's
//     "pipe:[inode]", what the kernel's readlink writes for every one of
//     them, so they need no readlink;
//   - any other descriptor is read once per (device, inode): a leak opens
//     the same file or device again and again, and every copy has the same
//     target. Only targets that name the inode alone are shared: paths
//     (starting with "/") and "pipe:[inode]". Anonymous inodes
//     ("anon_inode:[eventfd]", "anon_inode:[eventpoll]", ...) share one
//     inode between kinds, so each of them is read.
//
// Two hard links to one file, or one file seen through two bind mounts,
// are reported under the first path read. A descriptor closed and reused
// between the fstat and the readlink gets the reused one's target, as a
// descriptor reused between a listing and its readlink always could.
func (w *fdWalker) stat(num int) bool {
	var st unix.Stat_t
	switch err := fstatRetry(num, &st); err {
	case nil:
	case unix.EBADF:
		return false
	default:
		return w.readlink(num)
	}
	switch typ := st.Mode & unix.S_IFMT; {
	case typ == unix.S_IFSOCK:
		w.links = append(w.links, fdLinkEntry{num: num, target: "socket:[" + strconv.FormatUint(st.Ino, 10) + "]"})
		return true
	case typ == unix.S_IFIFO && w.pipeDev != 0 && w.pipeDev == uint64(st.Dev):
		// An anonymous pipe (a named FIFO lives on another file system).
		w.links = append(w.links, fdLinkEntry{num: num, target: "pipe:[" + strconv.FormatUint(st.Ino, 10) + "]"})
		return true
	}
	key := devIno{uint64(st.Dev), st.Ino}
	if t, ok := w.seen[key]; ok {
		w.links = append(w.links, fdLinkEntry{num: num, target: t})
		return true
	}
	if !w.readlink(num) {
		return false
	}
	if t := w.links[len(w.links)-1].target; strings.HasPrefix(t, "/") || strings.HasPrefix(t, "pipe:[") {
		w.seen[key] = t
	}
	return true
}

// readlink reads the link of descriptor num with readlinkat relative to
// the directory, and reports whether num was open.
func (w *fdWalker) readlink(num int) bool {
	s := strconv.Itoa(num)
	copy(w.name[:], s)
	w.name[len(s)] = 0
	var n int
	for {
		r, _, errno := unix.Syscall6(unix.SYS_READLINKAT, uintptr(w.dfd),
			uintptr(unsafe.Pointer(&w.name[0])), uintptr(unsafe.Pointer(&w.target[0])), uintptr(len(w.target)), 0, 0)
		if errno == unix.EINTR {
			continue
		}
		n = int(r)
		if errno != 0 {
			n = -int(errno)
		}
		break
	}
	switch {
	case n == -int(unix.ENOENT):
		return false // closed meanwhile
	case n < 0:
		w.links = append(w.links, fdLinkEntry{num: num, target: "unreadable"})
	default:
		w.links = append(w.links, fdLinkEntry{num: num, target: string(w.target[:n])})
	}
	return true
}

// pipefsDev is the device of the kernel's pipe file system, on which every
// anonymous pipe lives, read once from a pipe made for it; 0 (no device
// matches) if that pipe could not be made, for example at EMFILE, in which
// case it is tried again on the next call.
var pipefsDev = func() func() uint64 {
	var (
		mu  sync.Mutex
		dev uint64
	)
	return func() uint64 {
		mu.Lock()
		defer mu.Unlock()
		if dev != 0 {
			return dev
		}
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			return 0
		}
		var st unix.Stat_t
		if fstatRetry(p[0], &st) == nil {
			dev = uint64(st.Dev)
		}
		unix.Close(p[0])
		unix.Close(p[1])
		return dev
	}
}()

// fstatRetry is unix.Fstat, retried on EINTR.
func fstatRetry(fd int, st *unix.Stat_t) error {
	for {
		err := unix.Fstat(fd, st)
		if err != unix.EINTR {
			return err
		}
	}
}
