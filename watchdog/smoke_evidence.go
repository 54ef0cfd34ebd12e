package watchdog

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

// Bounds of an evidence's layout on a page: the rows of each table and the facts.
const (
	evidenceRows  = 10
	evidenceFacts = 8
)

// evidenceView is an alert's evidence laid out for reading: a one-line diagnosis, then the
// goroutine groups that grew, the descriptors by kind and target, the connections by state
// and peer. Every string is raw: each format escapes it.
type evidenceView struct {
	Summary     string
	Facts       []string
	Groups      []groupRow
	Descriptors []fdRow
	Conns       []connRow
	TCP         string
	Callouts    []string
	Dumps       []string
	Error       string
	More        int // rows left out of the tables
}

type groupRow struct {
	Count, Delta, Leaked int
	Wait                 string
	Where                string // file:line, the file's base name
	Function, File       string
}

type fdRow struct {
	Count, Delta int
	Kind, Target string
}

type connRow struct {
	Count, Delta      int
	Kind, State, Peer string
}

func viewEvidence(e *Evidence) *evidenceView {
	if e == nil {
		return nil
	}
	v := &evidenceView{Summary: e.Diagnosis.Summary, Error: e.Error, Dumps: e.Dumps}
	v.Facts = e.Diagnosis.Evidence
	if len(v.Facts) > evidenceFacts {
		v.Facts = v.Facts[:evidenceFacts]
	}
	r := e.Report
	if r == nil {
		return v
	}
	for i, g := range r.Groups {
		if i == evidenceRows {
			v.More += len(r.Groups) - i
			break
		}
		row := groupRow{Count: g.Count, Delta: g.Delta, Leaked: g.Leaked, Wait: g.Wait.String(),
			Function: g.Top.Function, File: g.Top.File}
		if g.Top.File != "" {
			row.Where = path.Base(g.Top.File) + ":" + strconv.Itoa(g.Top.Line)
		}
		v.Groups = append(v.Groups, row)
	}
	for _, c := range r.FDClasses {
		switch c.Kind {
		case attribution.FDTCP, attribution.FDTCP6, attribution.FDUDP, attribution.FDUnix:
			if len(v.Conns) == evidenceRows {
				v.More++
				continue
			}
			row := connRow{Count: c.Count, Delta: c.Delta, Kind: string(c.Kind), Peer: c.Class}
			if c.Kind == attribution.FDTCP || c.Kind == attribution.FDTCP6 {
				// "ESTABLISHED to 10.0.0.9:443": the state, then the direction and address.
				if st, peer, ok := strings.Cut(c.Class, " "); ok {
					row.State, row.Peer = st, peer
				}
			}
			v.Conns = append(v.Conns, row)
		default:
			if len(v.Descriptors) == evidenceRows {
				v.More++
				continue
			}
			v.Descriptors = append(v.Descriptors, fdRow{Count: c.Count, Delta: c.Delta, Kind: string(c.Kind), Target: c.Class})
		}
	}
	if len(r.TCPStates) > 0 {
		states := make([]string, 0, len(r.TCPStates))
		for s := range r.TCPStates {
			states = append(states, s)
		}
		slices.Sort(states)
		var b strings.Builder
		for i, s := range states {
			if i > 0 {
				b.WriteString(", ")
			}
			d := r.TCPStates[s]
			fmt.Fprintf(&b, "%s %d (%+d)", s, d.Current, d.Delta)
		}
		v.TCP = b.String()
	}
	v.Callouts = r.Callouts
	return v
}

// mdEscape makes s plain text in Markdown, also inside a table cell (it is never put at the
// start of a line): the characters Markdown reads as markup are escaped with a backslash, a
// '<' or '&' that could open an HTML tag or entity becomes an entity, and line breaks and
// other control characters become spaces or \x escapes. "<10/min" stays as it is: no tag
// starts with a digit.
func mdEscape(s string) string {
	var b strings.Builder
	for i, r := range s {
		next := byte(0)
		if i+1 < len(s) {
			next = s[i+1]
		}
		letter := next >= 'a' && next <= 'z' || next >= 'A' && next <= 'Z'
		switch r {
		case '<':
			if letter || next == '/' || next == '!' || next == '?' {
				b.WriteString("&lt;")
			} else {
				b.WriteByte('<')
			}
		case '&':
			if letter || next == '#' {
				b.WriteString("&amp;")
			} else {
				b.WriteByte('&')
			}
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		case '\\', '`', '*', '_', '[', ']', '|', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, "\\x%02x", r)
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// markdown writes the evidence as Markdown lines indented under a list item.
func (v *evidenceView) markdown(b *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("  - **Diagnosis:** %s\n", mdEscape(v.Summary))
	for _, f := range v.Facts {
		p("    - %s\n", mdEscape(f))
	}
	if len(v.Groups) > 0 {
		p("\n    | goroutines | delta | wait | top frame |\n    |---:|---:|---|---|\n")
		for _, g := range v.Groups {
			p("    | %d | %+d | %s | %s %s |\n", g.Count, g.Delta, mdEscape(g.Wait), mdEscape(g.Where), mdEscape(g.Function))
		}
	}
	if len(v.Descriptors) > 0 {
		p("\n    | descriptors | delta | kind | target |\n    |---:|---:|---|---|\n")
		for _, d := range v.Descriptors {
			p("    | %d | %+d | %s | %s |\n", d.Count, d.Delta, mdEscape(d.Kind), mdEscape(d.Target))
		}
	}
	if len(v.Conns) > 0 {
		p("\n    | connections | delta | kind | state | peer |\n    |---:|---:|---|---|---|\n")
		for _, c := range v.Conns {
			p("    | %d | %+d | %s | %s | %s |\n", c.Count, c.Delta, mdEscape(c.Kind), mdEscape(c.State), mdEscape(c.Peer))
		}
	}
	if v.TCP != "" {
		p("\n    TCP states: %s\n", mdEscape(v.TCP))
	}
	for _, c := range v.Callouts {
		p("\n    **%s**\n", mdEscape(c))
	}
	if v.More > 0 {
		p("\n    (%d more rows in the JSON report)\n", v.More)
	}
	if v.Error != "" {
		p("\n    error: %s\n", mdEscape(v.Error))
	}
}
