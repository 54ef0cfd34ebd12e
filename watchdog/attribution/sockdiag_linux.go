//go:build linux

package attribution

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// diagDump lists the namespace's sockets of one protocol (ipprotoTCP or
// ipprotoUDP), IPv4 then IPv6, through NETLINK_SOCK_DIAG.
func diagDump(proto uint8, states uint32, fn func(netEntry)) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, netlinkSockDiag)
	if err != nil {
		return fmt.Errorf("attribution: sock_diag socket: %w", err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 32<<10)
	for i, family := range []uint8{afInet, afInet6} {
		req := diagRequest(family, proto, states, uint32(i+1))
		if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return fmt.Errorf("attribution: sock_diag send: %w", err)
		}
		for {
			n, err := unix.Read(fd, buf)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return fmt.Errorf("attribution: sock_diag read: %w", err)
			}
			err = parseDiagMessages(buf[:n], fn)
			if errors.Is(err, errDiagDone) {
				break
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}
