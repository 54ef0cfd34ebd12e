package attribution

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/trend"
)

func TestFDTableFixture(t *testing.T) {
	tab, notes, err := readFDTable("testdata/proc", false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 {
		t.Errorf("notes = %q, want none", notes)
	}
	if tab.Total != 21 {
		t.Errorf("total = %d, want 21", tab.Total)
	}
	want := []FDClass{
		{FDDevice, "/dev/pts", 2},
		{FDFile, "/var/log/app", 2},
		{FDPipe, "pipe", 2},
		{FDTCP, "CLOSE_WAIT to 10.0.0.9:443", 2},
		{FDAnon, "eventfd", 1},
		{FDAnon, "eventpoll", 1},
		{FDAnon, "inotify", 1},
		{FDDevice, "/dev/null", 1},
		{FDFile, "/var/lib/app", 1},
		{FDOther, "memfd", 1},
		{FDSocket, "socket", 1},
		{FDTCP, "ESTABLISHED in 127.0.0.1:8080", 1},
		{FDTCP, "LISTEN 127.0.0.1:8080", 1},
		{FDTCP6, "ESTABLISHED to 10.0.0.7:5432", 1},
		{FDTCP6, "LISTEN [::1]:9090", 1},
		{FDUnix, "/run/docker.sock", 1},
		{FDUnix, "unbound", 1},
	}
	if !slices.Equal(tab.Classes, want) {
		t.Errorf("classes:\ngot  %v\nwant %v", tab.Classes, want)
	}
	if tab.TCPStates["CLOSE_WAIT"] != 2 || tab.TCPStates["LISTEN"] != 2 || tab.TCPStates["ESTABLISHED"] != 2 {
		t.Errorf("tcp states = %v, want CLOSE_WAIT=2 LISTEN=2 ESTABLISHED=2", tab.TCPStates)
	}
	if tab.NamespaceTimeWait != 2 || tab.TimeWaitByPeer["10.0.0.9:443"] != 2 {
		t.Errorf("time wait = %d by peer %v, want 2 to 10.0.0.9:443", tab.NamespaceTimeWait, tab.TimeWaitByPeer)
	}
	// Entries are in descriptor order with their addresses.
	e := tab.Entries[5]
	if e.Num != 5 || e.State != TCPCloseWait || e.Local.String() != "10.0.0.5:51000" || e.Remote.String() != "10.0.0.9:443" {
		t.Errorf("entry 5 = %+v, want fd 5 CLOSE_WAIT 10.0.0.5:51000 -> 10.0.0.9:443", e)
	}
	var b strings.Builder
	if err := tab.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "5\ttcp\tCLOSE_WAIT to 10.0.0.9:443\tsocket:[1003]\n") {
		t.Errorf("WriteText misses fd 5:\n%s", b.String())
	}
}

func TestFDTableMissingNetFiles(t *testing.T) {
	root := t.TempDir()
	fd := filepath.Join(root, "self", "fd")
	if err := os.MkdirAll(fd, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("socket:[1]", filepath.Join(fd, "3")); err != nil {
		t.Fatal(err)
	}
	tab, notes, err := readFDTable(root, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Total != 1 || tab.Classes[0].Kind != FDSocket {
		t.Errorf("table = %+v, want one unjoined socket", tab.Classes)
	}
	if len(notes) != 5 {
		t.Errorf("notes = %q, want one per unreadable net table (5)", notes)
	}
	if _, _, err := readFDTable(filepath.Join(root, "nope"), false, nil, nil); err == nil {
		t.Error("readFDTable(missing root): no error")
	}
}

// openAndForget opens n files in dir and never closes them (the leak under
// test); it returns them so the test can clean up.
func openAndForget(t *testing.T, dir string, n int) []*os.File {
	t.Helper()
	var fs []*os.File
	for i := range n {
		f, err := os.Create(filepath.Join(dir, "leak-"+string(rune('a'+i%26))+".log"))
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	return fs
}

func TestFilesNotClosed(t *testing.T) {
	if !fdsSupported {
		t.Skip("no /proc on this system")
	}
	const n = 12
	dir := t.TempDir()
	base := take(t, Options{FDs: true})
	files := openAndForget(t, dir, n)
	t.Cleanup(func() {
		for _, f := range files {
			f.Close()
		}
	})
	r := Diff(base, take(t, Options{FDs: true}))
	if r.FDs.Delta < n {
		t.Errorf("fd delta = %d, want >= %d", r.FDs.Delta, n)
	}
	var got *FDClassDelta
	for i, c := range r.FDClasses {
		if c.Kind == FDFile && c.Class == dir {
			got = &r.FDClasses[i]
		}
	}
	if got == nil || got.Delta != n || got.Count != n {
		t.Fatalf("no file class %q with delta %d in %+v", dir, n, r.FDClasses)
	}
	d := Diagnose(r, Context{Series: []SeriesRate{{Name: "fds", Level: trend.Warning, PerMinute: 20}}})
	if d.Cause != CauseFileNotClosed || !strings.Contains(d.Summary, dir) {
		t.Errorf("diagnosis = %v %q, want %v naming %s", d.Cause, d.Summary, CauseFileNotClosed, dir)
	}
}

func TestBuildFDTableNoSockets(t *testing.T) {
	opened := 0
	open := func(string) (io.ReadCloser, error) { opened++; return nil, os.ErrNotExist }
	tab := buildFDTable([]fdLinkEntry{{3, "/a/b"}, {1, "pipe:[2]"}}, procNetTables(open), func(string) {})
	if opened != 0 {
		t.Errorf("net tables opened %d times without sockets, want 0", opened)
	}
	if tab.Entries[0].Num != 1 || tab.Entries[1].Num != 3 {
		t.Errorf("entries not in fd order: %+v", tab.Entries)
	}
}

// TestJoinSocketsAskingOwn drives joinSockets with sockets that answer for themselves (tabs.own):
// no table is read for them, a socket still connecting gets its peer from the TCP table, and
// when the TIME_WAIT count fails the TCP table counts them instead, with a note.
func TestJoinSocketsAskingOwn(t *testing.T) {
	peer := netip.MustParseAddrPort("10.0.0.9:443")
	local := netip.MustParseAddrPort("10.0.0.2:40000")
	own := map[int]ownSocket{
		3: {kind: FDTCP, state: TCPEstablished, local: local, remote: peer, remoteKnown: true},
		4: {kind: FDTCP, state: TCPSynSent, local: netip.MustParseAddrPort("10.0.0.2:40001"), remote: netip.MustParseAddrPort("0.0.0.0:0")},
		5: {kind: FDUnix, unixPath: "/run/app.sock"},
		6: {kind: FDSocket},
	}
	links := []fdLinkEntry{{3, "socket:[30]"}, {4, "socket:[40]"}, {5, "socket:[50]"}, {6, "socket:[60]"}, {7, "socket:[70]"}}
	for _, twFails := range []bool{false, true} {
		var reads []string
		tabs := netTables{
			inet: func(tcp bool, fn func(netEntry)) error {
				reads = append(reads, map[bool]string{true: "tcp", false: "udp"}[tcp])
				fn(netEntry{Local: netip.MustParseAddrPort("10.0.0.2:40001"), Remote: peer, State: TCPSynSent, Inode: 40})
				fn(netEntry{Local: local, Remote: peer, State: TCPTimeWait})
				fn(netEntry{Local: local, Remote: peer, State: TCPTimeWait})
				return nil
			},
			unix: func(func(uint64, string)) error { reads = append(reads, "unix"); return nil },
			own: func(fd int) (ownSocket, bool) {
				o, ok := own[fd]
				return o, ok // fd 7: closed since the walk
			},
			timeWait: func() (int, map[string]int, error) {
				if twFails {
					return 0, nil, errors.New("sockstat unreadable")
				}
				return 5, nil, nil
			},
		}
		var notes []string
		tab := buildFDTable(slices.Clone(links), tabs, func(s string) { notes = append(notes, s) })
		byNum := map[int]FD{}
		for _, e := range tab.Entries {
			byNum[e.Num] = e
		}
		if e := byNum[3]; e.Kind != FDTCP || e.Class != "ESTABLISHED to "+peer.String() {
			t.Errorf("fd 3 = %+v, want an ESTABLISHED tcp socket to %s", e, peer)
		}
		if e := byNum[4]; e.State != TCPSynSent || e.Remote != peer {
			t.Errorf("fd 4 = %+v, want SYN_SENT with the peer from the table", e)
		}
		if e := byNum[5]; e.Kind != FDUnix || e.Class != "/run/app.sock" {
			t.Errorf("fd 5 = %+v, want unix /run/app.sock", e)
		}
		if e := byNum[6]; e.Kind != FDSocket || byNum[7].Kind != FDSocket {
			t.Errorf("fds 6, 7 = %+v, %+v, want plain sockets", e, byNum[7])
		}
		if !slices.Equal(reads, []string{"tcp"}) {
			t.Errorf("tables read: %v, want tcp only (for the connecting socket)", reads)
		}
		want := 5
		if twFails {
			want = 2
			if len(notes) != 1 || !strings.Contains(notes[0], "sockstat unreadable") {
				t.Errorf("notes %q, want the TIME_WAIT count's failure", notes)
			}
		}
		if tab.NamespaceTimeWait != want {
			t.Errorf("TIME_WAIT count fails %v: NamespaceTimeWait %d, want %d", twFails, tab.NamespaceTimeWait, want)
		}
	}
}
