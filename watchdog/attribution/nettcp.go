package attribution

// This file parses /proc/<pid>/net/tcp, tcp6, udp and udp6: see proc_net(5).
// Each lists every socket of the process's network namespace:
//
//	  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//	   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 ...
//
// Addresses are hexadecimal in the kernel's byte order per 32-bit word
// (little-endian on amd64 and arm64), ports in network order.

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// TCPState is a TCP connection state as numbered by the kernel
// (include/net/tcp_states.h). The zero value is not a valid state.
type TCPState uint8

// TCP states.
const (
	TCPEstablished TCPState = 0x01
	TCPSynSent     TCPState = 0x02
	TCPSynRecv     TCPState = 0x03
	TCPFinWait1    TCPState = 0x04
	TCPFinWait2    TCPState = 0x05
	TCPTimeWait    TCPState = 0x06
	TCPClose       TCPState = 0x07
	TCPCloseWait   TCPState = 0x08
	TCPLastAck     TCPState = 0x09
	TCPListen      TCPState = 0x0A
	TCPClosing     TCPState = 0x0B
	TCPNewSynRecv  TCPState = 0x0C
)

var tcpStateNames = [...]string{
	"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
}

// String returns the state as netstat and ss name it, "CLOSE_WAIT" for
// example, or "UNKNOWN".
func (s TCPState) String() string {
	if int(s) < len(tcpStateNames) {
		return tcpStateNames[s]
	}
	return "UNKNOWN"
}

// MarshalText encodes the state as its [TCPState.String] form.
func (s TCPState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// netEntry is one line of /proc/net/tcp, tcp6, udp or udp6.
type netEntry struct {
	Local, Remote netip.AddrPort
	State         TCPState // for UDP: 07 (CLOSE) unless connected (01)
	Inode         uint64   // 0 for sockets no FD holds (TIME_WAIT)
	V6            bool     // an IPv6 socket (addresses may be v4-mapped, shown unmapped)
}

// parseNetTCP parses the text of /proc/<pid>/net/{tcp,tcp6,udp,udp6} and
// calls fn for every entry. A malformed line is an error naming its number.
// By hand, not procfs's NetTCP (deprecated for netlink): the same time, a tenth of the allocations (BenchmarkNetTables).
func parseNetTCP(r io.Reader, fn func(netEntry)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for ln := 1; sc.Scan(); ln++ {
		if ln == 1 {
			continue // header
		}
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		e, err := parseNetLine(line)
		if err != nil {
			return fmt.Errorf("attribution: net table line %d: %w", ln, err)
		}
		fn(e)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("attribution: net table: %w", err)
	}
	return nil
}

func parseNetLine(line string) (netEntry, error) {
	var e netEntry
	var f [10]string
	n := 0
	for s := range strings.FieldsSeq(line) {
		if n == len(f) {
			break
		}
		f[n] = s
		n++
	}
	if n < len(f) {
		return e, fmt.Errorf("%d fields, want at least %d", n, len(f))
	}
	var err error
	e.V6 = len(f[1]) > len("0100007F:1F90")
	if e.Local, err = parseHexAddrPort(f[1]); err != nil {
		return e, fmt.Errorf("local address: %w", err)
	}
	if e.Remote, err = parseHexAddrPort(f[2]); err != nil {
		return e, fmt.Errorf("remote address: %w", err)
	}
	st, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil {
		return e, fmt.Errorf("state %q: %w", f[3], err)
	}
	e.State = TCPState(st)
	if e.Inode, err = strconv.ParseUint(f[9], 10, 64); err != nil {
		return e, fmt.Errorf("inode %q: %w", f[9], err)
	}
	return e, nil
}

// parseHexAddrPort parses "0100007F:1F90" (IPv4) or a 32-digit IPv6 form.
func parseHexAddrPort(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("%q: no port", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: port: %w", s, err)
	}
	var raw [16]byte
	switch len(a) {
	case 8, 32:
	default:
		return netip.AddrPort{}, fmt.Errorf("%q: address length %d", s, len(a))
	}
	if _, err := hex.Decode(raw[:len(a)/2], []byte(a)); err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: %w", s, err)
	}
	// Each 32-bit word is in the kernel's byte order: reorder to network order.
	var out [16]byte
	for w := 0; w < len(a)/8; w++ {
		v := binary.NativeEndian.Uint32(raw[w*4:])
		binary.BigEndian.PutUint32(out[w*4:], v)
	}
	var addr netip.Addr
	if len(a) == 8 {
		addr = netip.AddrFrom4([4]byte(out[:4]))
	} else {
		addr = netip.AddrFrom16(out).Unmap()
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// UnmarshalText decodes the [TCPState.String] form; unknown text decodes
// to 0.
func (s *TCPState) UnmarshalText(b []byte) error {
	*s = 0
	for i, n := range tcpStateNames {
		if i > 0 && n == string(b) {
			*s = TCPState(i)
		}
	}
	return nil
}
