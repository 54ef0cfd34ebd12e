//go:build linux

package attribution

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// readFDLinks lists dir (a /proc/<pid>/fd directory) with getdents and
// reads each link with readlinkat relative to the directory, sparing the
// kernel a path walk from the root per descriptor. Descriptors closed
// meanwhile are skipped, and so is the directory's own descriptor.
//
// With open set, that already open directory is listed from its start
// instead, and no descriptor is needed.
func readFDLinks(dir string, open *os.File) ([]fdLinkEntry, error) {
	var dfd int
	if open != nil {
		dfd = int(open.Fd())
		if _, err := syscall.Seek(dfd, 0, 0); err != nil {
			return nil, fmt.Errorf("attribution: fd table: seek %s: %w", dir, err)
		}
	} else {
		fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("attribution: fd table: open %s: %w", dir, err)
		}
		defer syscall.Close(fd)
		dfd = fd
	}
	var names []string
	buf := make([]byte, 64<<10)
	for {
		n, err := syscall.Getdents(dfd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("attribution: fd table: getdents %s: %w", dir, err)
		}
		if n <= 0 {
			break
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
	}
	links := readLinksAt(dfd, names)
	return links, nil
}

// readLinksAt reads the links named (descriptor numbers) in directory dfd.
func readLinksAt(dfd int, names []string) []fdLinkEntry {
	links := make([]fdLinkEntry, 0, len(names))
	var name [24]byte
	target := make([]byte, 4096)
	for _, s := range names {
		num, err := strconv.Atoi(s)
		if err != nil || len(s) >= len(name) {
			continue
		}
		copy(name[:], s)
		name[len(s)] = 0
		var n int
		for {
			r, _, errno := syscall.Syscall6(syscall.SYS_READLINKAT, uintptr(dfd),
				uintptr(unsafe.Pointer(&name[0])), uintptr(unsafe.Pointer(&target[0])), uintptr(len(target)), 0, 0)
			if errno == syscall.EINTR {
				continue
			}
			n = int(r)
			if errno != 0 {
				n = -int(errno)
			}
			break
		}
		switch {
		case n == -int(syscall.ENOENT):
			continue // closed meanwhile
		case n < 0:
			links = append(links, fdLinkEntry{num: num, target: "unreadable"})
		case num == dfd && strings.HasSuffix(string(target[:n]), "/fd"):
			continue // our own directory descriptor
		default:
			links = append(links, fdLinkEntry{num: num, target: string(target[:n])})
		}
	}
	return links
}
