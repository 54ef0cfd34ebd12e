package attribution

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	// TCP state and direction with an address, the unix socket path.
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
	// address, at most the 10 largest.
	TimeWaitByPeer map[string]int `json:"time_wait_by_peer,omitempty"`
	// Entries are the descriptors, in number order. Reports omit them;
	// dumps write them.
	Entries []FD `json:"-"`
}

// readFDTable reads root/self/fd and the socket tables under root/self/net.
// Descriptors closed while being read are skipped. Problems with the socket
// tables do not fail the read: they come back as notes.
func readFDTable(root string) (*FDTable, []string, error) {
	dir := filepath.Join(root, "self", "fd")
	d, err := os.Open(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("attribution: fd table: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("attribution: fd table: %w", err)
	}
	links := make([]fdLinkEntry, 0, len(names))
	for _, name := range names {
		n, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		t, err := os.Readlink(filepath.Join(dir, name))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // closed meanwhile, or our own directory FD
			}
			t = "unreadable"
		}
		links = append(links, fdLinkEntry{num: n, target: t})
	}
	var notes []string
	open := func(name string) (io.ReadCloser, error) {
		return os.Open(filepath.Join(root, "self", "net", name))
	}
	t := buildFDTable(links, open, func(s string) { notes = append(notes, s) })
	return t, notes, nil
}

type fdLinkEntry struct {
	num    int
	target string
}

// buildFDTable classifies link targets, joining sockets with the net
// tables that open returns. It is pure apart from open.
func buildFDTable(links []fdLinkEntry, open func(name string) (io.ReadCloser, error), note func(string)) *FDTable {
	slices.SortFunc(links, func(a, b fdLinkEntry) int { return a.num - b.num })
	t := &FDTable{Total: len(links), Entries: make([]FD, len(links)), TCPStates: map[string]int{}}
	sockets := map[uint64]int{} // inode -> entry index
	for i, l := range links {
		p := parseFDLink(l.target)
		t.Entries[i] = FD{Num: l.num, Target: l.target, Kind: p.kind, Class: p.detail}
		if p.kind == FDSocket {
			sockets[p.inode] = i
		}
	}
	if len(sockets) > 0 {
		joinSockets(t, sockets, open, note)
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

func joinSockets(t *FDTable, sockets map[uint64]int, open func(string) (io.ReadCloser, error), note func(string)) {
	timeWait := map[string]int{}
	for _, tab := range []struct {
		name string
		kind FDKind
	}{{"tcp", FDTCP}, {"tcp6", FDTCP6}, {"udp", FDUDP}, {"udp6", FDUDP}} {
		f, err := open(tab.name)
		if err != nil {
			note(fmt.Sprintf("net/%s unreadable: %v", tab.name, err))
			continue
		}
		isTCP := tab.kind != FDUDP
		err = parseNetTCP(f, func(e netEntry) {
			if isTCP && e.State == TCPTimeWait {
				t.NamespaceTimeWait++
				timeWait[e.Remote.String()]++
			}
			i, ok := sockets[e.Inode]
			if !ok || e.Inode == 0 {
				return
			}
			fd := &t.Entries[i]
			fd.Kind, fd.Local, fd.Remote = tab.kind, e.Local, e.Remote
			if isTCP {
				fd.State = e.State
			}
		})
		f.Close()
		if err != nil {
			note(err.Error())
		}
	}
	if f, err := open("unix"); err != nil {
		note(fmt.Sprintf("net/unix unreadable: %v", err))
	} else {
		err = parseNetUnix(f, func(ino uint64, path string) {
			if i, ok := sockets[ino]; ok && t.Entries[i].Kind == FDSocket {
				if path == "" {
					path = "unbound"
				}
				t.Entries[i].Kind, t.Entries[i].Class = FDUnix, path
			}
		})
		f.Close()
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
