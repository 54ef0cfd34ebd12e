package attribution

// This file parses /proc/<pid>/net/unix: see proc_net(5). It lists every
// unix domain socket of the network namespace:
//
//	Num       RefCount Protocol Flags    Type St Inode Path
//	0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/app.sock
//
// The table names a socket's bound path, not its peer: a connected client
// socket shows no path. Peers would need sock_diag (netlink), which this
// package does not use.

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// parseNetUnix parses /proc/<pid>/net/unix and calls fn with each socket's
// inode and path ("" when unbound; abstract names start with "@").
// By hand, not procfs's NetUNIX: the same time, fewer allocations (BenchmarkNetTables).
func parseNetUnix(r io.Reader, fn func(inode uint64, path string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for ln := 1; sc.Scan(); ln++ {
		if ln == 1 {
			continue
		}
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 7 {
			return fmt.Errorf("attribution: net/unix line %d: %d fields, want at least 7", ln, len(f))
		}
		ino, err := strconv.ParseUint(f[6], 10, 64)
		if err != nil {
			return fmt.Errorf("attribution: net/unix line %d: inode %q: %w", ln, f[6], err)
		}
		p := ""
		if len(f) > 7 {
			p = strings.Join(f[7:], " ")
		}
		fn(ino, p)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("attribution: net/unix: %w", err)
	}
	return nil
}
