package attribution

import (
	"path"
	"strconv"
	"strings"
)

// FDKind is the kind of an open file descriptor, from its /proc/self/fd
// link target and, for sockets, the /proc/self/net tables.
type FDKind string

// File descriptor kinds.
const (
	FDTCP    FDKind = "tcp"        // IPv4 TCP socket (found in /proc/self/net/tcp)
	FDTCP6   FDKind = "tcp6"       // IPv6 TCP socket (found in /proc/self/net/tcp6)
	FDUDP    FDKind = "udp"        // UDP socket (found in /proc/self/net/udp or udp6)
	FDUnix   FDKind = "unix"       // unix domain socket (found in /proc/self/net/unix)
	FDSocket FDKind = "socket"     // other socket (netlink, raw, another namespace...)
	FDPipe   FDKind = "pipe"       // pipe or FIFO end
	FDAnon   FDKind = "anon_inode" // anonymous inode: eventpoll, eventfd, timerfd, signalfd, inotify, pidfd...
	FDFile   FDKind = "file"       // regular file (or directory) on a filesystem
	FDDevice FDKind = "device"     // path under /dev
	FDOther  FDKind = "other"      // anything else: memfd, namespaces, unreadable links
)

// fdLink is the pure classification of one link target.
type fdLink struct {
	kind   FDKind // FDSocket for every socket until the net tables refine it
	detail string // directory (files), path (devices), anon kind, other kind
	inode  uint64 // sockets and pipes
}

// parseFDLink classifies the target of a /proc/<pid>/fd/<n> symlink:
//
//	socket:[12345]           socket, inode 12345
//	pipe:[12345]             pipe, inode 12345
//	anon_inode:[eventpoll]   anon inode "eventpoll"
//	anon_inode:inotify       anon inode "inotify"
//	/dev/null                device "/dev/null"
//	/var/log/app/x.log       file in "/var/log/app"
//	/tmp/x (deleted)         file in "/tmp"
//	/memfd:name (deleted)    other "memfd"
//	net:[4026531840]         other "net"
func parseFDLink(target string) fdLink {
	if strings.HasPrefix(target, "/") {
		p := strings.TrimSuffix(target, " (deleted)")
		switch {
		case strings.HasPrefix(p, "/memfd:"):
			return fdLink{kind: FDOther, detail: "memfd"}
		case strings.HasPrefix(p, "/dev/"):
			// Group pseudo terminals, the common case of many.
			if strings.HasPrefix(p, "/dev/pts/") {
				return fdLink{kind: FDDevice, detail: "/dev/pts"}
			}
			return fdLink{kind: FDDevice, detail: p}
		}
		return fdLink{kind: FDFile, detail: path.Dir(p)}
	}
	typ, rest, ok := strings.Cut(target, ":")
	if !ok || typ == "" {
		return fdLink{kind: FDOther, detail: "unknown"}
	}
	inner, bracketed := strings.CutPrefix(rest, "[")
	if bracketed {
		inner, bracketed = strings.CutSuffix(inner, "]")
	}
	switch typ {
	case "socket", "pipe":
		ino, err := strconv.ParseUint(inner, 10, 64)
		if !bracketed || err != nil {
			return fdLink{kind: FDOther, detail: "unknown"}
		}
		if typ == "pipe" {
			return fdLink{kind: FDPipe, detail: "pipe", inode: ino}
		}
		return fdLink{kind: FDSocket, detail: "socket", inode: ino}
	case "anon_inode":
		if inner == "" {
			inner = "unknown"
		}
		return fdLink{kind: FDAnon, detail: inner}
	}
	return fdLink{kind: FDOther, detail: sanitizeDetail(typ)}
}

// sanitizeDetail bounds an unexpected kernel string used as a class name.
func sanitizeDetail(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
