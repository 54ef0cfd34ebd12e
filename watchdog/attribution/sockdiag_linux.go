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
	fd, err := openDiagSocket()
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return diagDumpOn(fd, proto, states, fn)
}

// openDiagSocket opens a NETLINK_SOCK_DIAG socket.
func openDiagSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, netlinkSockDiag)
	if err != nil {
		return -1, fmt.Errorf("attribution: sock_diag socket: %w", err)
	}
	return fd, nil
}

func closeDiagSocket(fd int) { unix.Close(fd) }

// diagDumpOn is diagDump on an open sock_diag socket, which can be used
// again for the next dump once this one returned nil (it read the dump to
// its end); after an error it must be closed.
func diagDumpOn(fd int, proto uint8, states uint32, fn func(netEntry)) error {
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
