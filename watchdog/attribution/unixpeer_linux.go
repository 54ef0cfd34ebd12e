//go:build linux

package attribution

import "golang.org/x/sys/unix"

// unixPeer returns the path a connected unix socket of this process is
// connected to, asking the socket itself (getpeername). fd must still be
// the socket with this inode: a descriptor closed and reused since its
// link was read is left alone. ok is false when the peer is unknown.
func unixPeer(fd int, inode uint64) (path string, ok bool) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Ino != inode || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return "", false
	}
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return "", false
	}
	u, isUnix := sa.(*unix.SockaddrUnix)
	if !isUnix {
		return "", false
	}
	if u.Name == "" {
		return "unbound", true // a socketpair, or a peer that never bound
	}
	if u.Name[0] == 0 {
		return "@" + u.Name[1:], true // abstract namespace, as /proc/net/unix writes it
	}
	return u.Name, true
}
