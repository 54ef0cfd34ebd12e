package attribution

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/procfs"
)

// BenchmarkNetTables is why the descriptor evidence parses /proc/self/net/tcp and
// /proc/self/net/unix by hand (parseNetTCP, parseNetUnix: the fallback where sock_diag fails)
// and not with procfs's NetTCP and NetUNIX, which read the same files: one read of each table
// by each, at 100 and 1000 open descriptors of this process (a tenth of them loopback TCP
// sockets, see openFDs), beside whatever else the network namespace holds.
//
//	go test -run '^$' -bench BenchmarkNetTables -benchmem -count 10 ./watchdog/attribution
func BenchmarkNetTables(b *testing.B) {
	fs, err := procfs.NewFS("/proc")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("fds=%d", n), func(b *testing.B) {
			defer openFDs(b, n)()
			for _, r := range []struct {
				name string
				read func() error
			}{
				{"table=tcp/reader=leakwatch", func() error {
					return readProcFile("/proc/self/net/tcp", func(r io.Reader) error { return parseNetTCP(r, func(netEntry) {}) })
				}},
				{"table=tcp/reader=procfs", func() error {
					//lint:ignore SA1019 the reader this benchmark weighs parseNetTCP against
					_, err := fs.NetTCP()
					return err
				}},
				{"table=unix/reader=leakwatch", func() error {
					return readProcFile("/proc/self/net/unix", func(r io.Reader) error { return parseNetUnix(r, func(uint64, string) {}) })
				}},
				{"table=unix/reader=procfs", func() error { _, err := fs.NetUNIX(); return err }},
			} {
				b.Run(r.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if err := r.read(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// TestNetTCPMatchesProcfs: parseNetTCP finds in /proc/self/net/tcp the sockets procfs's NetTCP
// finds, with the same addresses, state and inode, so BenchmarkNetTables compares two readers
// of the same result. The test holds a listener and a connection to it, so the table is not
// empty.
func TestNetTCPMatchesProcfs(t *testing.T) {
	fs, err := procfs.NewFS("/proc")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, s := dialAccept(t, ln)
	defer c.Close()
	defer s.Close()
	client := fmt.Sprintf("%s %s %02X ", c.LocalAddr(), c.RemoteAddr(), uint8(TCPEstablished))
	ours := func() []string {
		var out []string
		err := readProcFile("/proc/self/net/tcp", func(r io.Reader) error {
			return parseNetTCP(r, func(e netEntry) {
				out = append(out, fmt.Sprintf("%s %s %02X %d", e.Local, e.Remote, uint8(e.State), e.Inode))
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	// Other processes of the namespace open and close sockets: compare a procfs read with two
	// equal reads of ours around it.
	for range 100 {
		before := ours()
		//lint:ignore SA1019 the reader this test checks parseNetTCP against
		lines, err := fs.NetTCP()
		if err != nil {
			t.Fatal(err)
		}
		after := ours()
		if !slices.Equal(before, after) {
			continue
		}
		var theirs []string
		for _, l := range lines {
			local, _ := netip.AddrFromSlice(l.LocalAddr)
			remote, _ := netip.AddrFromSlice(l.RemAddr)
			theirs = append(theirs, fmt.Sprintf("%s %s %02X %d",
				netip.AddrPortFrom(local.Unmap(), uint16(l.LocalPort)), netip.AddrPortFrom(remote.Unmap(), uint16(l.RemPort)), l.St, l.Inode))
		}
		slices.Sort(theirs)
		if !slices.Equal(before, theirs) {
			t.Fatalf("parseNetTCP:\n%q\nprocfs NetTCP:\n%q", before, theirs)
		}
		if !slices.ContainsFunc(before, func(l string) bool { return strings.HasPrefix(l, client) }) {
			t.Fatalf("the test's connection %q is not in parseNetTCP's %q", client, before)
		}
		return
	}
	t.Fatal("/proc/self/net/tcp changed between every two reads in 100 tries")
}

// readProcFile opens name and hands it to parse.
func readProcFile(name string, parse func(io.Reader) error) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return parse(f)
}
