package attribution

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// diagMsg builds one SOCK_DIAG_BY_FAMILY message as the kernel does.
func diagMsg(family, state uint8, src, dst []byte, sport, dport uint16, inode uint32) []byte {
	b := make([]byte, nlmsgHdrLen+inetDiagMsgLen)
	binary.NativeEndian.PutUint32(b, uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], sockDiagByFamily)
	m := b[nlmsgHdrLen:]
	m[0], m[1] = family, state
	binary.BigEndian.PutUint16(m[4:], sport)
	binary.BigEndian.PutUint16(m[6:], dport)
	copy(m[8:], src)
	copy(m[24:], dst)
	binary.NativeEndian.PutUint32(m[68:], inode)
	return b
}

func TestParseDiagMessages(t *testing.T) {
	done := make([]byte, nlmsgHdrLen+4)
	binary.NativeEndian.PutUint32(done, uint32(len(done)))
	binary.NativeEndian.PutUint16(done[4:], nlmsgDone)
	mapped := append(make([]byte, 10), 0xff, 0xff, 10, 0, 0, 7)
	var b []byte
	b = append(b, diagMsg(afInet, 8, []byte{10, 0, 0, 5}, []byte{10, 0, 0, 9}, 51000, 443, 1003)...)
	b = append(b, diagMsg(afInet6, 1, net.IPv6loopback, mapped, 9090, 5432, 2002)...)
	b = append(b, done...)
	var got []netEntry
	err := parseDiagMessages(b, func(e netEntry) { got = append(got, e) })
	if !errors.Is(err, errDiagDone) {
		t.Fatalf("err = %v, want errDiagDone", err)
	}
	if len(got) != 2 ||
		got[0].Local.String() != "10.0.0.5:51000" || got[0].Remote.String() != "10.0.0.9:443" || got[0].State != TCPCloseWait || got[0].Inode != 1003 || got[0].V6 ||
		got[1].Local.String() != "[::1]:9090" || got[1].Remote.String() != "10.0.0.7:5432" || got[1].State != TCPEstablished || !got[1].V6 {
		t.Errorf("entries = %+v", got)
	}
	// Kernel errors and truncation are errors.
	kerr := make([]byte, nlmsgHdrLen+4)
	binary.NativeEndian.PutUint32(kerr, uint32(len(kerr)))
	binary.NativeEndian.PutUint16(kerr[4:], nlmsgError)
	binary.NativeEndian.PutUint32(kerr[16:], uint32(0xffffffff)) // -EPERM
	if err := parseDiagMessages(kerr, func(netEntry) {}); !errors.Is(err, syscall.EPERM) {
		t.Errorf("error message: err = %v, want EPERM", err)
	}
	for _, bad := range [][]byte{b[:10], b[:40], {0xff, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if err := parseDiagMessages(bad, func(netEntry) {}); err == nil || errors.Is(err, errDiagDone) {
			t.Errorf("parseDiagMessages(% x): err = %v, want a parse error", bad, err)
		}
	}
}

// FuzzParseDiagMessages: no input panics. Seeds: testdata/fuzz.
func FuzzParseDiagMessages(f *testing.F) {
	f.Add(diagMsg(afInet, 1, []byte{127, 0, 0, 1}, []byte{127, 0, 0, 1}, 1, 2, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = parseDiagMessages(b, func(netEntry) {})
	})
}

// TestSockDiagMatchesProc checks sock_diag against /proc/self/net for this
// process's own idle loopback sockets.
func TestSockDiagMatchesProc(t *testing.T) {
	if !fdsSupported {
		t.Skip("Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 {
		c, s := dialAccept(t, ln)
		conns = append(conns, c, s)
	}
	diag, notes, err := readFDTable("/proc", true, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	proc, _, err := readFDTable("/proc", false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) > 0 {
		t.Errorf("sock_diag notes: %q", notes)
	}
	own := func(tab *FDTable) []FD {
		var out []FD
		for _, e := range tab.Entries {
			if e.Kind == FDTCP && (e.Local.Port() == ln.Addr().(*net.TCPAddr).AddrPort().Port() || e.Remote.Port() == ln.Addr().(*net.TCPAddr).AddrPort().Port()) {
				out = append(out, e)
			}
		}
		return out
	}
	d, p := own(diag), own(proc)
	if len(d) != 7 || !slices.Equal(d, p) {
		t.Errorf("sock_diag:\n%+v\n/proc:\n%+v\nwant the same 7 sockets", d, p)
	}
}

func TestProcNetTablesErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tcp"), []byte("header\nbad line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tabs := procNetTables(func(name string) (io.ReadCloser, error) { return os.Open(filepath.Join(dir, name)) })
	err := tabs.inet(true, func(netEntry) {})
	if err == nil {
		t.Fatal("no error for a bad tcp table and a missing tcp6")
	}
}

func TestUnixSocketPeer(t *testing.T) {
	if !fdsSupported {
		t.Skip("Linux only")
	}
	path := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n = 3
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	base := take(t, Options{FDs: true, MaxGoroutines: -1})
	for range n {
		c, s := dialAccept(t, ln)
		conns = append(conns, c, s)
	}
	r := Diff(base, take(t, Options{FDs: true, MaxGoroutines: -1}))
	got := map[string]int{}
	for _, c := range r.FDClasses {
		if c.Kind == FDUnix {
			got[c.Class] = c.Delta
		}
	}
	if got["to "+path] != n || got[path] != n {
		t.Errorf("unix classes = %v, want %d \"to %s\" (clients) and %d %q (accepted)", got, n, path, n, path)
	}
}

// dialAccept opens one connection to ln and returns both of its ends.
func dialAccept(tb testing.TB, ln net.Listener) (client, server net.Conn) {
	tb.Helper()
	c, err := net.Dial(ln.Addr().Network(), ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		c.Close()
		tb.Fatal(err)
	}
	return c, s
}
