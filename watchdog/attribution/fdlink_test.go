package attribution

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseFDLink(t *testing.T) {
	for _, tc := range []struct {
		target string
		want   fdLink
	}{
		{"socket:[12345]", fdLink{FDSocket, "socket", 12345}},
		{"pipe:[7]", fdLink{FDPipe, "pipe", 7}},
		{"anon_inode:[eventpoll]", fdLink{FDAnon, "eventpoll", 0}},
		{"anon_inode:[timerfd]", fdLink{FDAnon, "timerfd", 0}},
		{"anon_inode:inotify", fdLink{FDAnon, "inotify", 0}},
		{"anon_inode:", fdLink{FDAnon, "unknown", 0}},
		{"/dev/null", fdLink{FDDevice, "/dev/null", 0}},
		{"/dev/pts/3", fdLink{FDDevice, "/dev/pts", 0}},
		{"/var/log/app/x.log", fdLink{FDFile, "/var/log/app", 0}},
		{"/tmp/x (deleted)", fdLink{FDFile, "/tmp", 0}},
		{"/", fdLink{FDFile, "/", 0}},
		{"/memfd:buf (deleted)", fdLink{FDOther, "memfd", 0}},
		{"net:[4026531840]", fdLink{FDOther, "net", 0}},
		{"socket:[x]", fdLink{FDOther, "unknown", 0}},
		{"socket:12", fdLink{FDOther, "unknown", 0}},
		{"", fdLink{FDOther, "unknown", 0}},
		{"garbage", fdLink{FDOther, "unknown", 0}},
	} {
		t.Run(tc.target, func(t *testing.T) {
			if got := parseFDLink(tc.target); got != tc.want {
				t.Errorf("parseFDLink(%q) = %+v, want %+v", tc.target, got, tc.want)
			}
		})
	}
}

// FuzzParseFDLink checks that any link target classifies without panic
// into a known kind with a non-empty class, that socket and pipe inodes
// come from the bracketed number, and that files and devices keep an
// absolute path. Seeds: testdata/fuzz/FuzzParseFDLink.
func FuzzParseFDLink(f *testing.F) {
	f.Add("socket:[1]")
	f.Fuzz(func(t *testing.T, target string) {
		l := parseFDLink(target)
		switch l.kind {
		case FDSocket, FDPipe:
			inner, ok := strings.CutPrefix(target, map[FDKind]string{FDSocket: "socket:[", FDPipe: "pipe:["}[l.kind])
			inner, ok2 := strings.CutSuffix(inner, "]")
			n, err := strconv.ParseUint(inner, 10, 64)
			if !ok || !ok2 || err != nil || n != l.inode {
				t.Errorf("%q: %s inode %d not from the brackets", target, l.kind, l.inode)
			}
		case FDFile, FDDevice:
			if !strings.HasPrefix(l.detail, "/") || !strings.HasPrefix(target, "/") {
				t.Errorf("%q: %s class %q not absolute", target, l.kind, l.detail)
			}
		case FDAnon, FDOther:
		default:
			t.Errorf("%q: kind %q", target, l.kind)
		}
		if l.detail == "" {
			t.Errorf("%q: empty class", target)
		}
	})
}
