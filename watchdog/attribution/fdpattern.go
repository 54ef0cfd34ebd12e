package attribution

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// FDPattern counts the open descriptors of one kind whose targets match one
// pattern: what is there now, whatever the baseline.
type FDPattern struct {
	// Kind is the descriptors' kind.
	Kind FDKind `json:"kind"`
	// Pattern is the targets' pattern. For files and devices it is the
	// path with every run of digits in the file name replaced by "*"
	// ("/var/log/app/leaked-*.log"); for sockets, pipes and anonymous
	// inodes it is the descriptor's class ("ESTABLISHED to 10.0.0.9:443",
	// "[eventpoll]").
	Pattern string `json:"pattern"`
	// Count is the number of descriptors.
	Count int `json:"count"`
}

// String returns "<pattern>: <count> <kind noun>", for example
// "/tmp/x/leaked-*.log: 940 regular files".
func (p FDPattern) String() string {
	return fmt.Sprintf("%s: %d %s", p.Pattern, p.Count, kindNoun(p.Kind, p.Count))
}

func kindNoun(k FDKind, n int) string {
	s := map[FDKind]string{
		FDTCP: "TCP socket", FDTCP6: "TCP6 socket", FDUDP: "UDP socket", FDUnix: "unix socket",
		FDSocket: "socket", FDPipe: "pipe", FDAnon: "anon inode", FDFile: "regular file",
		FDDevice: "device", FDOther: "descriptor",
	}[k]
	if s == "" {
		s = "descriptor"
	}
	if n != 1 {
		s += "s"
	}
	return s
}

// Patterns groups the table's descriptors by kind and target pattern (see
// [FDPattern.Pattern]), largest first (ties by kind and pattern), at most
// top of them (all when top <= 0). It needs [FDTable.Entries]: a table
// without them (a baseline) has no patterns.
func (t *FDTable) Patterns(top int) []FDPattern {
	if t == nil {
		return nil
	}
	counts := map[FDPattern]int{}
	for _, e := range t.Entries {
		p := FDPattern{Kind: e.Kind, Pattern: e.Class}
		if (e.Kind == FDFile || e.Kind == FDDevice) && strings.HasPrefix(e.Target, "/") {
			p.Pattern = targetPattern(e.Target)
		}
		counts[p]++
	}
	out := make([]FDPattern, 0, len(counts))
	for p, n := range counts {
		p.Count = n
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b FDPattern) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return strings.Compare(a.Pattern, b.Pattern)
	})
	if top > 0 && len(out) > top {
		out = out[:top]
	}
	return out
}

// targetPattern replaces every run of digits in the file name of path p
// with "*": "/d/leaked-0042.log" becomes "/d/leaked-*.log". A " (deleted)"
// suffix the kernel adds is kept.
func targetPattern(p string) string {
	p, deleted := strings.CutSuffix(p, " (deleted)")
	dir, file := path.Split(p)
	var b strings.Builder
	b.WriteString(dir)
	digits := false
	for _, r := range file {
		if r >= '0' && r <= '9' {
			if !digits {
				b.WriteByte('*')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(r)
	}
	if deleted {
		b.WriteString(" (deleted)")
	}
	return b.String()
}

// ConnGroup counts the process's connections to one peer in one state.
type ConnGroup struct {
	// Kind is FDTCP, FDTCP6 or FDUnix.
	Kind FDKind `json:"kind"`
	// Peer is the remote address of an outbound TCP connection, the local
	// (listening) address of an inbound one, or the path a unix socket is
	// connected to.
	Peer string `json:"peer"`
	// Inbound reports a connection accepted by this process.
	Inbound bool `json:"inbound,omitempty"`
	// State is the TCP state ("ESTABLISHED", "CLOSE_WAIT", ...); "" for
	// unix sockets.
	State string `json:"state,omitempty"`
	// Count is the number of connections.
	Count int `json:"count"`
}

// String returns "12 ESTABLISHED to 10.0.0.9:443", "3 CLOSE_WAIT in
// 127.0.0.1:8080" or "40 unix to /var/run/docker.sock".
func (c ConnGroup) String() string {
	dir := "to"
	if c.Inbound {
		dir = "in"
	}
	state := c.State
	if state == "" {
		state = string(c.Kind)
	}
	return fmt.Sprintf("%d %s %s %s", c.Count, state, dir, c.Peer)
}

// Connections groups the table's connected sockets by peer and state,
// largest first, at most top of them (all when top <= 0): TCP sockets
// other than listening ones, and unix sockets whose peer is known ("to
// <path>" classes). With outboundOnly, connections accepted by this
// process are left out (an HTTP client pool's connections are outbound).
// It needs [FDTable.Entries].
func (t *FDTable) Connections(top int, outboundOnly bool) []ConnGroup {
	if t == nil {
		return nil
	}
	counts := map[ConnGroup]int{}
	for _, e := range t.Entries {
		var g ConnGroup
		switch e.Kind {
		case FDTCP, FDTCP6:
			if e.State == TCPListen {
				continue
			}
			state := e.State.String()
			rest, in := strings.CutPrefix(e.Class, state+" in ")
			if !in {
				rest = strings.TrimPrefix(e.Class, state+" to ")
			}
			g = ConnGroup{Kind: e.Kind, Peer: rest, Inbound: in, State: state}
		case FDUnix:
			p, ok := strings.CutPrefix(e.Class, "to ")
			if !ok {
				continue
			}
			g = ConnGroup{Kind: FDUnix, Peer: p}
		default:
			continue
		}
		if outboundOnly && g.Inbound {
			continue
		}
		counts[g]++
	}
	out := make([]ConnGroup, 0, len(counts))
	for g, n := range counts {
		g.Count = n
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b ConnGroup) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.String(), b.String())
	})
	if top > 0 && len(out) > top {
		out = out[:top]
	}
	return out
}
