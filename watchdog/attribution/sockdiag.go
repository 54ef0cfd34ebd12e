package attribution

// This file parses sock_diag(7) answers: NETLINK_SOCK_DIAG dumps of
// inet_diag_msg records, the fast way to list TCP and UDP sockets (what
// ss(8) uses). The kernel still walks its socket hash tables, but does not
// format text: on a host with large hash tables it costs about a fifth of
// reading /proc/net/tcp and tcp6.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall" // Errno only: this file builds on every system, golang.org/x/sys/unix does not
)

// Netlink constants (linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h),
// spelled out so that the parser builds on every system.
const (
	nlmsgHdrLen       = 16
	nlmsgDone         = 3
	nlmsgError        = 2
	sockDiagByFamily  = 20
	inetDiagMsgLen    = 72
	inetDiagReqV2Len  = 56
	nlmFRequest       = 0x1
	nlmFDump          = 0x300
	netlinkSockDiag   = 4
	afInet            = 2
	afInet6           = 10
	ipprotoTCP        = 6
	ipprotoUDP        = 17
	inetDiagAllStates = 0xffffffff
)

// errDiagDone ends a dump.
var errDiagDone = errors.New("done")

// diagRequest builds a SOCK_DIAG_BY_FAMILY dump request for one family
// and protocol, for the TCP states set in the states bit mask (bit n for
// state n; inetDiagAllStates for all).
func diagRequest(family, proto uint8, states uint32, seq uint32) []byte {
	b := make([]byte, nlmsgHdrLen+inetDiagReqV2Len)
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], sockDiagByFamily)
	binary.NativeEndian.PutUint16(b[6:], nlmFRequest|nlmFDump)
	binary.NativeEndian.PutUint32(b[8:], seq)
	b[16] = family
	b[17] = proto
	binary.NativeEndian.PutUint32(b[20:], states)
	return b
}

// parseDiagMessages parses one datagram of a sock_diag dump and calls fn
// per socket. It returns errDiagDone at the end of the dump, and an error
// for a kernel error or a malformed message.
func parseDiagMessages(b []byte, fn func(netEntry)) error {
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return fmt.Errorf("attribution: sock_diag: short header (%d bytes)", len(b))
		}
		l := int(binary.NativeEndian.Uint32(b))
		typ := binary.NativeEndian.Uint16(b[4:])
		if l < nlmsgHdrLen || l > len(b) {
			return fmt.Errorf("attribution: sock_diag: message length %d of %d", l, len(b))
		}
		msg := b[nlmsgHdrLen:l]
		switch typ {
		case nlmsgDone:
			return errDiagDone
		case nlmsgError:
			if len(msg) >= 4 {
				if errno := int32(binary.NativeEndian.Uint32(msg)); errno < 0 {
					return fmt.Errorf("attribution: sock_diag: %w", syscall.Errno(-errno))
				}
			}
			return fmt.Errorf("attribution: sock_diag: error message")
		case sockDiagByFamily:
			e, err := parseInetDiagMsg(msg)
			if err != nil {
				return err
			}
			fn(e)
		}
		next := (l + 3) &^ 3
		if next > len(b) {
			next = len(b)
		}
		b = b[next:]
	}
	return nil
}

// parseInetDiagMsg decodes struct inet_diag_msg:
//
//	u8 family, state, timer, retrans
//	inet_diag_sockid { be16 sport, dport; be32 src[4], dst[4]; u32 if; u32 cookie[2] }
//	u32 expires, rqueue, wqueue, uid, inode
func parseInetDiagMsg(m []byte) (netEntry, error) {
	if len(m) < inetDiagMsgLen {
		return netEntry{}, fmt.Errorf("attribution: sock_diag: message of %d bytes, want %d", len(m), inetDiagMsgLen)
	}
	var e netEntry
	sport := binary.BigEndian.Uint16(m[4:])
	dport := binary.BigEndian.Uint16(m[6:])
	switch m[0] {
	case afInet:
		e.Local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(m[8:12])), sport)
		e.Remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(m[24:28])), dport)
	case afInet6:
		e.V6 = true
		e.Local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(m[8:24])).Unmap(), sport)
		e.Remote = netip.AddrPortFrom(netip.AddrFrom16([16]byte(m[24:40])).Unmap(), dport)
	default:
		return e, fmt.Errorf("attribution: sock_diag: family %d", m[0])
	}
	e.State = TCPState(m[1])
	e.Inode = uint64(binary.NativeEndian.Uint32(m[68:]))
	return e, nil
}
