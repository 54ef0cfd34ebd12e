package attribution

import "net/netip"

// ownSocket is what one of this process's sockets says of itself.
type ownSocket struct {
	// kind is FDTCP, FDTCP6, FDUDP, FDUnix, or FDSocket for another family
	// (netlink, packet...) or protocol.
	kind          FDKind
	state         TCPState // TCP; UDP: TCPClose, or TCPEstablished when connected
	local, remote netip.AddrPort
	// remoteKnown is false for a TCP socket that has a peer the socket does
	// not tell: getpeername fails while it is still connecting (SYN_SENT).
	remoteKnown bool
	unixPath    string // FDUnix: the bound path, "@name" for an abstract one, "" if unbound
}
