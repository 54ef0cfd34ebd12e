package attribution

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// FD is one open file descriptor of the process.
type FD struct {
	// Num is the descriptor number.
	Num int `json:"fd"`
	// Target is the /proc/self/fd link target, for example
	// "socket:[12345]" or "/var/log/app.log".
	Target string `json:"target"`
	// Kind is the descriptor's kind.
	Kind FDKind `json:"kind"`
	// Class is the group the descriptor is counted in within its kind:
	// the directory of a file, the device path, the anon inode kind, the
	// TCP state and direction with an address ("ESTABLISHED to
	// 10.0.0.9:443", "ESTABLISHED in 127.0.0.1:8080" for accepted ones),
	// the unix socket's bound path, or for an unbound connected one its
	// peer ("to /var/run/docker.sock", live /proc only) or "unbound".
	Class string `json:"class"`
	// State is the TCP state of a TCP socket; 0 otherwise.
	State TCPState `json:"state,omitzero"`
	// Local and Remote are a TCP or UDP socket's addresses.
	Local  netip.AddrPort `json:"local,omitzero"`
	Remote netip.AddrPort `json:"remote,omitzero"`
}

// FDClass counts the descriptors of one kind and class.
type FDClass struct {
	// Kind is the descriptors' kind.
	Kind FDKind `json:"kind"`
	// Class is as in [FD.Class].
	Class string `json:"class"`
	// Count is the number of descriptors.
	Count int `json:"count"`
}

func (c FDClass) key() string { return string(c.Kind) + " " + c.Class }

// FDTable is the classified descriptor table of the process.
type FDTable struct {
	// Total is the number of open descriptors read.
	Total int `json:"total"`
	// Classes are the descriptors counted by kind and class, largest first.
	Classes []FDClass `json:"classes"`
	// TCPStates counts the process's own TCP sockets by state name.
	TCPStates map[string]int `json:"tcp_states"`
	// NamespaceTimeWait counts TIME_WAIT sockets of the whole network
	// namespace: they hold no descriptor, so they cannot be tied to this
	// process; in a container they usually are its own.
	NamespaceTimeWait int `json:"namespace_time_wait"`
	// TimeWaitByPeer counts the namespace's TIME_WAIT sockets by remote
	// address, at most the 10 largest. From the live /proc it is filled
	// only when there are 100 or more of them (listing them walks the
	// namespace's whole TCP table).
	TimeWaitByPeer map[string]int `json:"time_wait_by_peer,omitempty"`
	// Entries are the descriptors, in number order. Reports omit them;
	// dumps write them.
	Entries []FD `json:"-"`
}

// readFDTable reads root/self/fd and the socket tables: through sock_diag
// when diag is set (root is the live /proc), else from root/self/net.
// Descriptors closed while being read are skipped. Problems with the socket
// tables do not fail the read: they come back as notes.
//
// net, when not nil, holds the sock_diag socket and sockstat file to use
// (see [NetHandles]); it is held for the whole read.
func readFDTable(root string, diag bool, dir *os.File, net *NetHandles) (*FDTable, []string, error) {
	if net != nil {
		net.mu.Lock()
		defer net.mu.Unlock()
	}
	// With the live /proc (diag), descriptors are this process's own, so
	// unbound unix sockets can be asked for their peer.
	links, err := readFDLinks(filepath.Join(root, "self", "fd"), diag, dir)
	if err != nil {
		return nil, nil, err
	}
	var notes []string
	note := func(s string) { notes = append(notes, s) }
	tabs := procNetTables(func(name string) (io.ReadCloser, error) {
		return os.Open(filepath.Join(root, "self", "net", name))
	})
	if diag {
		tabs = diagNetTables(tabs, note, net)
		tabs.peer = unixPeer
		tabs.own = queryOwnSocket
		tabs.timeWait = func() (int, map[string]int, error) {
			return diagTimeWait(filepath.Join(root, "self", "net", "sockstat"), net)
		}
	}
	return buildFDTable(links, tabs, note), notes, nil
}

// diagTimeWait counts the namespace's TIME_WAIT sockets from sockstat (the
// "tw" figure of its TCP line, both address families), and lists them by
// peer through sock_diag only when there are timeWaitCallout or more: the
// dump walks the namespace's whole TCP hash table, 1.5-3 ms per
// address family here whatever the number of sockets.
// The sockstat file and sock_diag socket are net's when it has them.
func diagTimeWait(sockstat string, net *NetHandles) (int, map[string]int, error) {
	b, err := net.readSockstat(sockstat)
	if err != nil {
		return 0, nil, err
	}
	n, err := parseSockstatTimeWait(bytes.NewReader(b))
	if err != nil || n < timeWaitCallout {
		return n, nil, err
	}
	count, byPeer := 0, map[string]int{}
	err = net.dump(ipprotoTCP, 1<<TCPTimeWait, func(e netEntry) {
		if e.State == TCPTimeWait {
			count++
			byPeer[e.Remote.String()]++
		}
	})
	if err != nil {
		return n, nil, err
	}
	return count, byPeer, nil
}

// parseSockstatTimeWait reads the TIME_WAIT count from the text of
// /proc/<pid>/net/sockstat: "TCP: inuse 5 orphan 0 tw 31 alloc 7 mem 1".
func parseSockstatTimeWait(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "TCP:" {
			continue
		}
		for i := 1; i+1 < len(f); i += 2 {
			if f[i] == "tw" {
				n, err := strconv.Atoi(f[i+1])
				if err != nil || n < 0 {
					return 0, fmt.Errorf("attribution: sockstat: bad tw %q", f[i+1])
				}
				return n, nil
			}
		}
		return 0, errors.New("attribution: sockstat: no tw in the TCP line")
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("attribution: sockstat: %w", err)
	}
	return 0, errors.New("attribution: sockstat: no TCP line")
}

type fdLinkEntry struct {
	num    int
	target string
}

// netTables reads the network namespace's socket tables.
type netTables struct {
	// inet calls fn for every TCP (tcp set) or UDP socket, both families.
	inet func(tcp bool, fn func(netEntry)) error
	// unix calls fn for every unix socket.
	unix func(fn func(inode uint64, path string)) error
	// peer, when set, names the peer of this process's unix socket fd.
	peer func(fd int, inode uint64) (string, bool)
	// own, when set, asks one of this process's sockets what it is
	// (queryOwnSocket): no table of the namespace is read for the sockets
	// it describes.
	own func(fd int) (ownSocket, bool)
	// timeWait, when set, counts the namespace's TIME_WAIT sockets without
	// reading every socket of the namespace; byPeer is filled when there are
	// timeWaitCallout of them or more.
	timeWait func() (count int, byPeer map[string]int, err error)
}

// procNetTables reads /proc/<pid>/net/{tcp,tcp6,udp,udp6,unix} through open.
func procNetTables(open func(name string) (io.ReadCloser, error)) netTables {
	parse := func(name string, p func(io.Reader) error) error {
		f, err := open(name)
		if err != nil {
			return fmt.Errorf("attribution: net/%s unreadable: %w", name, err)
		}
		defer f.Close()
		return p(f)
	}
	return netTables{
		inet: func(tcp bool, fn func(netEntry)) error {
			names := []string{"udp", "udp6"}
			if tcp {
				names = []string{"tcp", "tcp6"}
			}
			var errs []error
			for _, n := range names {
				errs = append(errs, parse(n, func(r io.Reader) error { return parseNetTCP(r, fn) }))
			}
			return errors.Join(errs...)
		},
		unix: func(fn func(uint64, string)) error {
			return parse("unix", func(r io.Reader) error { return parseNetUnix(r, fn) })
		},
	}
}

// diagNetTables lists TCP and UDP sockets through sock_diag, falling back
// to the files of fallback (with a note) where sock_diag fails.
func diagNetTables(fallback netTables, note func(string), net *NetHandles) netTables {
	return netTables{
		inet: func(tcp bool, fn func(netEntry)) error {
			proto := uint8(ipprotoUDP)
			if tcp {
				proto = ipprotoTCP
			}
			seen := false
			err := net.dump(proto, inetDiagAllStates, func(e netEntry) { seen = true; fn(e) })
			if err == nil {
				return nil
			}
			if seen {
				return err // partial: no second pass, or entries would repeat
			}
			note(err.Error() + ": reading /proc/self/net instead")
			return fallback.inet(tcp, fn)
		},
		unix: fallback.unix,
	}
}

// buildFDTable classifies link targets, joining sockets with the socket
// tables. It is pure apart from what tabs reads.
func buildFDTable(links []fdLinkEntry, tabs netTables, note func(string)) *FDTable {
	slices.SortFunc(links, func(a, b fdLinkEntry) int { return a.num - b.num })
	t := &FDTable{Total: len(links), Entries: make([]FD, len(links)), TCPStates: map[string]int{}}
	sockets := map[uint64]int{} // inode -> entry index
	var (
		last       fdLink
		lastTarget string
	)
	for i, l := range links {
		// Leaked descriptors tend to come in runs to one target (the walk
		// hands them out as one string): parse each run once.
		p := last
		if i == 0 || l.target != lastTarget {
			p = parseFDLink(l.target)
			last, lastTarget = p, l.target
		}
		t.Entries[i] = FD{Num: l.num, Target: l.target, Kind: p.kind, Class: p.detail}
		if p.kind == FDSocket {
			sockets[p.inode] = i
		}
	}
	if len(sockets) > 0 {
		joinSockets(t, sockets, tabs, note)
	}
	counts := map[FDClass]int{}
	for _, e := range t.Entries {
		counts[FDClass{Kind: e.Kind, Class: e.Class}]++
	}
	t.Classes = make([]FDClass, 0, len(counts))
	for c, n := range counts {
		c.Count = n
		t.Classes = append(t.Classes, c)
	}
	slices.SortFunc(t.Classes, func(a, b FDClass) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.key(), b.key())
	})
	return t
}

// unixClass is the class of a unix socket bound to path ("" if unbound):
// the path, or for an unbound one its peer as peer names it ("to <path>"),
// or "unbound".
func unixClass(path string, fd int, inode uint64, peer func(int, uint64) (string, bool)) string {
	if path != "" {
		return path
	}
	if peer != nil {
		if p, ok := peer(fd, inode); ok {
			return "to " + p
		}
	}
	return "unbound"
}

// joinSockets fills in the sockets' kinds, addresses and states. With
// tabs.own (this process's live table) each socket is asked directly, and
// the TCP table is read only for sockets still connecting, or to count
// TIME_WAIT when tabs.timeWait fails. Otherwise the TCP table is always
// read (for the namespace's TIME_WAIT count), and the UDP and unix tables
// while sockets remain unidentified.
func joinSockets(t *FDTable, sockets map[uint64]int, tabs netTables, note1 func(string)) {
	note := func(s string) { // one note per joined error
		for l := range strings.SplitSeq(s, "\n") {
			note1(l)
		}
	}
	timeWait := map[string]int{}
	// Sockets this process can ask directly need no table; rest are left to
	// the tables: all of them without own, else those whose peer the socket
	// does not tell (still connecting).
	rest := sockets
	if tabs.own != nil {
		rest = map[uint64]int{}
		for ino, i := range sockets {
			fd := &t.Entries[i]
			o, ok := tabs.own(fd.Num)
			if !ok {
				continue // closed or reused since the table was read: a plain socket
			}
			switch o.kind {
			case FDTCP, FDTCP6:
				fd.Kind, fd.State, fd.Local, fd.Remote = o.kind, o.state, o.local, o.remote
				if !o.remoteKnown {
					rest[ino] = i
				}
			case FDUDP:
				fd.Kind, fd.Local, fd.Remote = FDUDP, o.local, o.remote
			case FDUnix:
				fd.Kind, fd.Class = FDUnix, unixClass(o.unixPath, fd.Num, ino, tabs.peer)
			}
		}
	}
	countTW := true
	if tabs.timeWait != nil {
		if n, byPeer, err := tabs.timeWait(); err != nil {
			note(err.Error() + ": listing every TCP socket instead")
		} else {
			t.NamespaceTimeWait, countTW = n, false
			maps.Copy(timeWait, byPeer)
		}
	}
	left := len(rest)
	join := func(tcp bool) func(netEntry) {
		return func(e netEntry) {
			if tcp && countTW && e.State == TCPTimeWait {
				t.NamespaceTimeWait++
				timeWait[e.Remote.String()]++
			}
			i, ok := rest[e.Inode]
			if !ok || e.Inode == 0 || (t.Entries[i].Kind != FDSocket && tabs.own == nil) {
				return
			}
			left--
			fd := &t.Entries[i]
			fd.Local, fd.Remote = e.Local, e.Remote
			switch {
			case !tcp:
				fd.Kind = FDUDP
			case e.V6:
				fd.Kind, fd.State = FDTCP6, e.State
			default:
				fd.Kind, fd.State = FDTCP, e.State
			}
		}
	}
	if countTW || left > 0 {
		if err := tabs.inet(true, join(true)); err != nil {
			note(err.Error())
		}
	}
	if left > 0 && tabs.own == nil {
		if err := tabs.inet(false, join(false)); err != nil {
			note(err.Error())
		}
	}
	if left > 0 && tabs.own == nil {
		err := tabs.unix(func(ino uint64, path string) {
			if i, ok := rest[ino]; ok && t.Entries[i].Kind == FDSocket {
				t.Entries[i].Kind, t.Entries[i].Class = FDUnix, unixClass(path, t.Entries[i].Num, ino, tabs.peer)
			}
		})
		if err != nil {
			note(err.Error())
		}
	}
	// Inbound connections are grouped by the listening address, outbound
	// ones by the peer, so that a server with many clients has few classes.
	listen := map[netip.AddrPort]bool{}
	listenPort := map[uint16]bool{}
	for _, e := range t.Entries {
		if e.State == TCPListen {
			listen[e.Local] = true
			listenPort[e.Local.Port()] = true
		}
	}
	for i := range t.Entries {
		e := &t.Entries[i]
		switch e.Kind {
		case FDTCP, FDTCP6:
			t.TCPStates[e.State.String()]++
			switch {
			case e.State == TCPListen:
				e.Class = "LISTEN " + e.Local.String()
			case listen[e.Local] || listenPort[e.Local.Port()]:
				e.Class = e.State.String() + " in " + e.Local.String()
			default:
				e.Class = e.State.String() + " to " + e.Remote.String()
			}
		case FDUDP:
			e.Class = e.Local.String()
			if e.Remote.Port() != 0 {
				e.Class = "to " + e.Remote.String()
			}
		}
	}
	if len(timeWait) > 0 {
		t.TimeWaitByPeer = topCounts(timeWait, 10)
	}
}

// topCounts keeps the n largest entries of m (ties by key).
func topCounts(m map[string]int, n int) map[string]int {
	if len(m) <= n {
		return m
	}
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	out := make(map[string]int, n)
	for _, k := range keys[:n] {
		out[k] = m[k]
	}
	return out
}

// WriteText writes the descriptor table, one descriptor a line:
// number, kind, class, target. It returns the first write error.
func (t *FDTable) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("# %d open file descriptors\n", t.Total)
	for _, e := range t.Entries {
		ew.printf("%d\t%s\t%s\t%s\n", e.Num, e.Kind, e.Class, e.Target)
	}
	return ew.err
}

// errWriter keeps the first error of a sequence of writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
