//go:build linux && !386

package attribution

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// queryOwnSocket asks this process's sockets what they are; nil where the
// system calls it needs are not direct ones (linux/386 multiplexes them
// through socketcall), and the socket tables are read instead.
var queryOwnSocket = askSocket

// askSocket asks socket fd of this process for its family, protocol,
// state and addresses: getsockname, then for an internet socket TCP_INFO
// (its first byte is the TCP state) and getpeername; SO_PROTOCOL only when
// TCP_INFO fails. Three system calls for a TCP socket, against a dump that
// walks the namespace's whole TCP hash table. ok is false when fd is not a
// socket any more (closed, or reused since the table was read).
func askSocket(fd int) (o ownSocket, ok bool) {
	var rsa unix.RawSockaddrAny
	family, n, err := sockname(unix.SYS_GETSOCKNAME, fd, &rsa)
	if err != nil {
		return o, false
	}
	switch family {
	case unix.AF_UNIX:
		o.kind = FDUnix
		o.unixPath = unixName(&rsa, n)
		return o, true
	case unix.AF_INET, unix.AF_INET6:
	default:
		o.kind = FDSocket
		return o, true
	}
	o.local = inetAddr(&rsa)
	v6 := family == unix.AF_INET6
	// No peer reads as the family's unspecified address, port 0, as in the tables.
	o.remote = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if v6 {
		o.remote = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
	}
	var info [8]byte
	il := uint32(len(info))
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&il)), 0)
	switch {
	case errno == 0 && il >= 1:
		o.kind, o.state = FDTCP, TCPState(info[0])
		if v6 {
			o.kind = FDTCP6
		}
	case errno == unix.EBADF || errno == unix.ENOTSOCK:
		return o, false
	default:
		proto, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
		if err != nil {
			return o, false
		}
		if proto != unix.IPPROTO_UDP {
			o.kind = FDSocket // raw, SCTP, ping...
			return o, true
		}
		o.kind, o.state = FDUDP, TCPClose
	}
	if o.state == TCPListen {
		o.remoteKnown = true // none
		return o, true
	}
	if _, _, err := sockname(unix.SYS_GETPEERNAME, fd, &rsa); err == nil {
		o.remote, o.remoteKnown = inetAddr(&rsa), true
		if o.kind == FDUDP {
			o.state = TCPEstablished // connected
		}
	} else if o.kind == FDUDP || o.state != TCPSynSent {
		o.remoteKnown = true // none: unconnected, or closed
	}
	return o, true
}

// sockname calls getsockname or getpeername (call) on fd into rsa and
// returns the address family and the address length.
func sockname(call uintptr, fd int, rsa *unix.RawSockaddrAny) (family uint16, n uint32, err error) {
	n = unix.SizeofSockaddrAny
	for {
		_, _, errno := unix.Syscall(call, uintptr(fd), uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(&n)))
		switch errno {
		case 0:
			return rsa.Addr.Family, n, nil
		case unix.EINTR:
			continue
		default:
			return 0, 0, errno
		}
	}
}

// inetAddr reads an AF_INET or AF_INET6 address, IPv4-mapped ones unmapped
// (as the socket tables are read).
func inetAddr(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), netPort(sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), netPort(sa.Port))
	}
	return netip.AddrPort{}
}

// netPort converts a port in network byte order, as it sits in a sockaddr.
func netPort(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// unixName reads the path of an AF_UNIX address of length n: "" when
// unbound, "@name" for the abstract namespace (as /proc/net/unix writes it).
func unixName(rsa *unix.RawSockaddrAny, n uint32) string {
	sa := (*unix.RawSockaddrUnix)(unsafe.Pointer(rsa))
	const off = uint32(unsafe.Offsetof(sa.Path))
	if n <= off {
		return ""
	}
	path := unsafe.Slice((*byte)(unsafe.Pointer(&sa.Path[0])), min(n-off, uint32(len(sa.Path))))
	if path[0] == 0 {
		return "@" + string(path[1:])
	}
	for i, c := range path {
		if c == 0 {
			return string(path[:i])
		}
	}
	return string(path)
}
