//go:build linux

package watchdog

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// osProbe reads the process figures the kernel keeps: open FDs, their limit, RSS.
//
// The FD count comes from fstat of a /proc/self/fd directory opened once at Start: since Linux
// 6.2 its st_size is the number of open descriptors, O(1) and without a new FD, so it still
// counts when every other descriptor is in use. On older kernels (st_size 0) or fixture roots,
// the same open directory is re-read with getdents into a buffer allocated once: O(open FDs),
// still no new FD. Only when the directory could not be opened at Start does it fall back to
// procfs FileDescriptorsLen (a stat by path, or a full listing that needs a free descriptor on
// older kernels).
type osProbe struct {
	fdDir     int  // open /proc/self/fd, or -1
	sizeCount bool // st_size is the FD count
	dirent    []byte
	statm     int // open /proc/self/statm, or -1
	statmBuf  [256]byte
	pageSize  float64
	proc      *procfs.Proc
	memLimit  float64 // cgroup memory limit, 0 when none
}

var errNoProc = errors.New("watchdog: /proc is not readable")

func newOSProbe(root string) *osProbe {
	if root == "" {
		root = "/proc"
	}
	p := &osProbe{fdDir: -1, statm: -1, pageSize: float64(os.Getpagesize())}
	if fd, err := unix.Open(filepath.Join(root, "self", "fd"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
		p.fdDir = fd
		p.dirent = make([]byte, 32<<10)
		var st unix.Stat_t
		if root == "/proc" && unix.Fstat(fd, &st) == nil && st.Size > 0 {
			p.sizeCount = true
		}
	}
	if fd, err := unix.Open(filepath.Join(root, "self", "statm"), unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		p.statm = fd
	}
	if fs, err := procfs.NewFS(root); err == nil {
		if pr, err := fs.Self(); err == nil {
			p.proc = &pr
		}
	}
	p.memLimit = cgroupMemoryLimit()
	return p
}

func (p *osProbe) close() {
	if p.fdDir >= 0 {
		unix.Close(p.fdDir)
		p.fdDir = -1
	}
	if p.statm >= 0 {
		unix.Close(p.statm)
		p.statm = -1
	}
}

func (p *osProbe) supported() bool { return true }

// fds returns the number of open file descriptors of the process.
func (p *osProbe) fds() (float64, error) {
	if p.fdDir >= 0 {
		if p.sizeCount {
			var st unix.Stat_t
			if err := unix.Fstat(p.fdDir, &st); err != nil {
				return math.NaN(), err
			}
			return float64(st.Size), nil
		}
		return p.countDirents()
	}
	if p.proc == nil {
		return math.NaN(), errNoProc
	}
	n, err := p.proc.FileDescriptorsLen()
	if err != nil {
		return math.NaN(), err
	}
	return float64(n), nil
}

// countDirents counts the entries of the open fd directory, skipping "." and "..".
func (p *osProbe) countDirents() (float64, error) {
	if _, err := unix.Seek(p.fdDir, 0, 0); err != nil {
		return math.NaN(), err
	}
	n := 0
	for {
		m, err := unix.ReadDirent(p.fdDir, p.dirent)
		if err != nil {
			return math.NaN(), err
		}
		if m <= 0 {
			break
		}
		buf := p.dirent[:m]
		for len(buf) > 0 {
			// struct linux_dirent64: ino(8) off(8) reclen(2) type(1) name...
			if len(buf) < 19 {
				break
			}
			reclen := int(buf[16]) | int(buf[17])<<8
			if reclen <= 0 || reclen > len(buf) {
				break
			}
			name := buf[19:reclen]
			if !(name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) {
				n++
			}
			buf = buf[reclen:]
		}
	}
	return float64(n), nil
}

// fdLimit returns the soft RLIMIT_NOFILE.
func (p *osProbe) fdLimit() (float64, error) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &r); err != nil {
		return math.NaN(), err
	}
	return float64(r.Cur), nil
}

// rss returns the resident set size in bytes, from /proc/self/statm read with pread into a
// fixed buffer (the file is regenerated at every read from offset 0).
// Hand-written, not procfs's Proc.Statm: that opens and parses the file with 12 allocations a call (BenchmarkRSS).
func (p *osProbe) rss() (float64, error) {
	if p.statm < 0 {
		if p.proc == nil {
			return math.NaN(), errNoProc
		}
		st, err := p.proc.Stat()
		if err != nil {
			return math.NaN(), err
		}
		return float64(st.ResidentMemory()), nil
	}
	n, err := unix.Pread(p.statm, p.statmBuf[:], 0)
	if err != nil {
		return math.NaN(), err
	}
	b := p.statmBuf[:n]
	// "size resident shared text lib data dt": the second field is in pages.
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return math.NaN(), errBadStatm
	}
	b = b[i+1:]
	pages := 0.0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		pages = pages*10 + float64(c-'0')
	}
	return pages * p.pageSize, nil
}

var errBadStatm = errors.New("watchdog: unexpected /proc/self/statm format")

// cgroupMemoryLimit returns the cgroup v2 (or v1) memory limit of the process, 0 when none.
func cgroupMemoryLimit() float64 {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(bytes.TrimSpace(b))
		if s == "max" {
			return 0
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 || v >= 1<<62 {
			return 0
		}
		return v
	}
	return 0
}

// errUnsupportedOS is the error of a probe this system lacks; none on Linux.
var errUnsupportedOS error
