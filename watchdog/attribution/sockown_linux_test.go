package attribution

import (
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOwnSocketsMatchTables opens sockets of every kind this process can hold (TCP over IPv4
// and IPv6 listening, connected and still connecting; UDP bound and connected; unix sockets
// bound to a path or the abstract namespace, accepted, connected and paired; a netlink socket)
// and requires the descriptor table built by asking each socket (queryOwnSocket) to equal the
// one built from the namespace's socket tables, descriptor by descriptor.
func TestOwnSocketsMatchTables(t *testing.T) {
	if queryOwnSocket == nil {
		t.Skip("sockets are not asked on this architecture")
	}
	var closers []func() error
	defer func() {
		for _, c := range slices.Backward(closers) {
			c()
		}
	}()
	keep := func(c interface{ Close() error }) { closers = append(closers, c.Close) }
	pair := func(network, addr string) {
		ln, err := net.Listen(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		keep(ln)
		c, s := dialAccept(t, ln)
		keep(c)
		keep(s)
	}
	pair("tcp", "127.0.0.1:0")
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		ln.Close()
		pair("tcp6", "[::1]:0")
	} else {
		t.Logf("no IPv6 loopback: %v", err)
	}
	// A dual-stack listener reached over IPv4: IPv6 sockets with IPv4-mapped addresses.
	dual, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	keep(dual)
	dc, err := net.Dial("tcp4", "127.0.0.1:"+strconv.Itoa(dual.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	keep(dc)
	ds, err := dual.Accept()
	if err != nil {
		t.Fatal(err)
	}
	keep(ds)
	pair("unix", filepath.Join(t.TempDir(), "api.sock"))
	pair("unix", "@leakwatch-test-"+strconv.Itoa(os.Getpid()))
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	keep(u)
	uc, err := net.Dial("udp", u.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	keep(uc)
	a, b, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	keep(a)
	keep(b)
	nl, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	closers = append(closers, func() error { return syscall.Close(nl) })
	connecting := synSent(t, &closers)

	links, err := readFDLinks("/proc/self/fd", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	note := func(s string) { notes = append(notes, s) }
	tabs := diagNetTables(procNetTables(func(name string) (io.ReadCloser, error) {
		return os.Open(filepath.Join("/proc/self/net", name))
	}), note, nil)
	tabs.peer = unixPeer
	fromTables := buildFDTable(slices.Clone(links), tabs, note)
	tabs.own = queryOwnSocket
	asked := buildFDTable(slices.Clone(links), tabs, note)
	if len(notes) > 0 {
		t.Errorf("notes: %q", notes)
	}
	kinds := map[FDKind]int{}
	for i, e := range asked.Entries {
		if e != fromTables.Entries[i] {
			t.Errorf("fd %d: asked %+v, tables %+v", e.Num, e, fromTables.Entries[i])
		}
		kinds[e.Kind]++
	}
	if kinds[FDTCP] < 4 || kinds[FDUDP] < 2 || kinds[FDUnix] < 8 || kinds[FDSocket] < 1 {
		t.Errorf("kinds %v, want at least 4 tcp, 2 udp, 8 unix and the netlink socket", kinds)
	}
	if connecting >= 0 {
		i := slices.IndexFunc(asked.Entries, func(e FD) bool { return e.Num == connecting })
		if i < 0 || asked.Entries[i].State != TCPSynSent || asked.Entries[i].Remote.Port() == 0 {
			t.Errorf("the connecting socket (fd %d) reads as %+v, want SYN_SENT with its peer", connecting, asked.Entries[min(max(i, 0), len(asked.Entries)-1)])
		}
	}
}

// synSent leaves a TCP socket connecting for the rest of the test: a loopback listener with a
// backlog of 0 that never accepts takes one connection, then drops further SYNs. It returns the
// connecting socket's descriptor, or -1 (with a log) where the kernel completes it anyway.
func synSent(t *testing.T, closers *[]func() error) int {
	t.Helper()
	lfd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	*closers = append(*closers, func() error { return syscall.Close(lfd) })
	if err := syscall.Bind(lfd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(lfd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(lfd)
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		*closers = append(*closers, func() error { return syscall.Close(fd) })
		if err := syscall.Connect(fd, sa); err != nil && err != syscall.EINPROGRESS {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		if st, _ := tcpState(fd); st == TCPSynSent {
			return fd
		}
	}
	t.Log("no connection stayed in SYN_SENT: that case is not covered here")
	return -1
}

// tcpState asks socket fd for its TCP state.
func tcpState(fd int) (TCPState, bool) {
	if queryOwnSocket == nil {
		return 0, false
	}
	o, ok := queryOwnSocket(fd)
	return o.state, ok && (o.kind == FDTCP || o.kind == FDTCP6)
}

func TestParseSockstatTimeWait(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		err  string
	}{
		{"sockets: used 7\nTCP: inuse 1 orphan 0 tw 14 alloc 1 mem 228\nUDP: inuse 0 mem 0\n", 14, ""},
		{"TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 2\n", 0, ""},
		{"sockets: used 7\n", 0, "no TCP line"},
		{"TCP: inuse 1 orphan 0\n", 0, "no tw"},
		{"TCP: inuse 1 tw -3\n", 0, "bad tw"},
		{"TCP: inuse 1 tw x\n", 0, "bad tw"},
	} {
		got, err := parseSockstatTimeWait(strings.NewReader(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: %v, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %v, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

// TestTimeWaitCounted closes connections from the client side so that the namespace holds
// TIME_WAIT sockets, at least timeWaitCallout of them to one peer, and requires the snapshot to
// count them and name the peer. The namespace is shared with whatever else runs on the machine
// (earlier runs of this test included, whose TIME_WAIT sockets last a minute), so the test
// asserts only what holds whatever else is there: the total is at least ours, and the peer
// list, cut to the top 10, names our peer with at least our count unless 10 peers with at
// least as many fill it.
func TestTimeWaitCounted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n = timeWaitCallout + 10
	for range n {
		c, s := dialAccept(t, ln)
		c.Close() // the side that closes first holds TIME_WAIT
		s.Close()
	}
	peer := ln.Addr().String()
	check := func(s *Snapshot) error {
		if s.FDs.NamespaceTimeWait < n {
			return fmt.Errorf("NamespaceTimeWait %d, want at least %d", s.FDs.NamespaceTimeWait, n)
		}
		byPeer := s.FDs.TimeWaitByPeer
		if got, ok := byPeer[peer]; ok {
			if got < n {
				return fmt.Errorf("TimeWaitByPeer[%s] = %d, want at least %d", peer, got, n)
			}
			return nil
		}
		if len(byPeer) < 10 {
			return fmt.Errorf("TimeWaitByPeer %v lacks %s with room left", byPeer, peer)
		}
		for p, c := range byPeer {
			if c < n {
				return fmt.Errorf("TimeWaitByPeer %v lacks %s (%d) but keeps %s with %d", byPeer, peer, n, p, c)
			}
		}
		return nil
	}
	// The last FIN is handled by the kernel after Close returns: poll until it has been.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := check(take(t, Options{FDs: true, MaxGoroutines: -1}))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTopCountsKeepsTheLargest: the peer list is cut to the n largest counts, ties by key.
func TestTopCountsKeepsTheLargest(t *testing.T) {
	m := map[string]int{"a": 5, "b": 9, "c": 5, "d": 1, "e": 7}
	got := topCounts(m, 3)
	want := map[string]int{"b": 9, "e": 7, "a": 5}
	if !maps.Equal(got, want) {
		t.Errorf("topCounts(%v, 3) = %v, want %v", m, got, want)
	}
	if got := topCounts(m, 10); !maps.Equal(got, m) {
		t.Errorf("topCounts(%v, 10) = %v, want all", m, got)
	}
}
