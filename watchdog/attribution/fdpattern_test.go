package attribution

import (
	"net/netip"
	"slices"
	"strconv"
	"testing"
)

func TestTargetPattern(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/tmp/x/leaked-0042.log", "/tmp/x/leaked-*.log"},
		{"/tmp/x/leaked-7.log (deleted)", "/tmp/x/leaked-*.log (deleted)"},
		{"/var/lib/db/000123.sst", "/var/lib/db/*.sst"},
		{"/etc/hosts", "/etc/hosts"},
		{"/data/2026/run-1-part-22", "/data/2026/run-*-part-*"}, // digits in the directory stay
	} {
		if got := targetPattern(c.in); got != c.want {
			t.Errorf("targetPattern(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPatterns(t *testing.T) {
	tab := &FDTable{}
	for i := range 940 {
		tab.Entries = append(tab.Entries, FD{Num: 10 + i, Kind: FDFile, Class: "/tmp/x", Target: "/tmp/x/leaked-" + strconv.Itoa(i) + ".log"})
	}
	tab.Entries = append(tab.Entries,
		FD{Num: 1, Kind: FDFile, Class: "/tmp/x", Target: "/tmp/x/config.yaml"},
		FD{Num: 2, Kind: FDPipe, Class: "pipe", Target: "pipe:[1]"},
		FD{Num: 3, Kind: FDPipe, Class: "pipe", Target: "pipe:[2]"},
		FD{Num: 4, Kind: FDDevice, Class: "/dev/null", Target: "/dev/null"},
	)
	got := tab.Patterns(3)
	want := []FDPattern{
		{Kind: FDFile, Pattern: "/tmp/x/leaked-*.log", Count: 940},
		{Kind: FDPipe, Pattern: "pipe", Count: 2},
		{Kind: FDDevice, Pattern: "/dev/null", Count: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Patterns(3) = %v, want %v", got, want)
	}
	if s := got[0].String(); s != "/tmp/x/leaked-*.log: 940 regular files" {
		t.Errorf("String() = %q", s)
	}
	if p := (&FDTable{Total: 3}).Patterns(0); len(p) != 0 {
		t.Errorf("a table without entries (a baseline's) has patterns %v", p)
	}
}

func TestConnections(t *testing.T) {
	peer := netip.MustParseAddrPort("10.0.0.9:443")
	local := netip.MustParseAddrPort("127.0.0.1:8080")
	tab := &FDTable{Entries: []FD{
		{Kind: FDTCP, State: TCPEstablished, Remote: peer, Class: "ESTABLISHED to 10.0.0.9:443"},
		{Kind: FDTCP, State: TCPEstablished, Remote: peer, Class: "ESTABLISHED to 10.0.0.9:443"},
		{Kind: FDTCP, State: TCPCloseWait, Remote: peer, Class: "CLOSE_WAIT to 10.0.0.9:443"},
		{Kind: FDTCP, State: TCPEstablished, Local: local, Class: "ESTABLISHED in 127.0.0.1:8080"},
		{Kind: FDTCP, State: TCPListen, Local: local, Class: "LISTEN 127.0.0.1:8080"},
		{Kind: FDUnix, Class: "to /var/run/docker.sock"},
		{Kind: FDUnix, Class: "unbound"},
		{Kind: FDFile, Class: "/tmp"},
	}}
	got := tab.Connections(0, false)
	want := []ConnGroup{
		{Kind: FDTCP, Peer: "10.0.0.9:443", State: "ESTABLISHED", Count: 2},
		{Kind: FDTCP, Peer: "10.0.0.9:443", State: "CLOSE_WAIT", Count: 1},
		{Kind: FDTCP, Peer: "127.0.0.1:8080", Inbound: true, State: "ESTABLISHED", Count: 1},
		{Kind: FDUnix, Peer: "/var/run/docker.sock", Count: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Connections = %v, want %v", got, want)
	}
	out := tab.Connections(0, true)
	for _, g := range out {
		if g.Inbound {
			t.Errorf("outbound only: got %v", g)
		}
	}
	if len(out) != 3 {
		t.Errorf("outbound connections = %v, want 3 groups", out)
	}
	if s := got[0].String(); s != "2 ESTABLISHED to 10.0.0.9:443" {
		t.Errorf("String() = %q", s)
	}
}
