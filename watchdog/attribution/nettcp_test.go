package attribution

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
)

func TestParseNetTCPFixture(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"testdata/proc/self/net/tcp", []string{
			"127.0.0.1:8080 0.0.0.0:0 LISTEN 1001",
			"127.0.0.1:8080 127.0.0.1:40000 ESTABLISHED 1002",
			"10.0.0.5:51000 10.0.0.9:443 CLOSE_WAIT 1003",
			"10.0.0.5:51001 10.0.0.9:443 CLOSE_WAIT 1004",
			"10.0.0.5:51002 10.0.0.9:443 TIME_WAIT 0",
			"10.0.0.5:51003 10.0.0.9:443 TIME_WAIT 0",
			"10.0.0.5:53248 10.0.0.11:80 ESTABLISHED 9999",
		}},
		{"testdata/proc/self/net/tcp6", []string{
			"[::1]:9090 [::]:0 LISTEN 2001",
			"10.0.0.5:52000 10.0.0.7:5432 ESTABLISHED 2002",
		}},
		{"testdata/proc/self/net/udp", nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got []string
			err = parseNetTCP(f, func(e netEntry) {
				got = append(got, fmt.Sprintf("%v %v %v %d", e.Local, e.Remote, e.State, e.Inode))
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestParseNetTCPErrors(t *testing.T) {
	head := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	for _, line := range []string{
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0",
		"   0: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1",
		"   0: 0100007:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1",
		"   0: 0100007F:1F90 00000000:0000 ZZ 00000000:00000000 00:00000000 00000000  1000 0 1",
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 -1",
		"   0: 0100007F:11F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1",
		"   0: 0100007G:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1",
	} {
		err := parseNetTCP(strings.NewReader(head+line+"\n"), func(netEntry) {})
		if err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("parseNetTCP(%q) error = %v, want one naming line 2", line, err)
		}
	}
}

// formatHexAddrPort is the inverse of parseHexAddrPort (IPv6 form for
// IPv6 and mapped addresses). Only the tests need it.
func formatHexAddrPort(ap netip.AddrPort, v6 bool) string {
	var b [16]byte
	n := 4
	if v6 {
		b, n = ap.Addr().As16(), 16
	} else {
		a4 := ap.Addr().As4()
		copy(b[:], a4[:])
	}
	var out strings.Builder
	for w := 0; w < n/4; w++ {
		var word [4]byte
		binary.NativeEndian.PutUint32(word[:], binary.BigEndian.Uint32(b[w*4:]))
		fmt.Fprintf(&out, "%08X", binary.BigEndian.Uint32(word[:]))
	}
	fmt.Fprintf(&out, ":%04X", ap.Port())
	return out.String()
}

func TestHexAddrPortRoundTrip(t *testing.T) {
	for _, s := range []string{"0100007F:1F90", "00000000000000000000000001000000:2382", "0000000000000000FFFF00000500000A:CB20"} {
		ap, err := parseHexAddrPort(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := formatHexAddrPort(ap, len(s) > 13); got != s && !(ap.Addr().Is4() && len(s) > 13) {
			t.Errorf("round trip %q -> %v -> %q", s, ap, got)
		}
	}
}

// FuzzParseNetLine checks that any line parses without panic, and that a
// parsed entry formats back to addresses that parse to the same entry.
// Seeds: testdata/fuzz/FuzzParseNetLine.
func FuzzParseNetLine(f *testing.F) {
	f.Add("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1001 1 0000000000000000 100 0 0 10 0")
	f.Fuzz(func(t *testing.T, line string) {
		e, err := parseNetLine(line)
		if err != nil {
			return
		}
		for _, ap := range []netip.AddrPort{e.Local, e.Remote} {
			if !ap.IsValid() {
				t.Fatalf("%q: invalid address %v without error", line, ap)
			}
			for _, v6 := range []bool{false, true} {
				if !v6 && !ap.Addr().Is4() {
					continue
				}
				s := formatHexAddrPort(ap, v6)
				back, err := parseHexAddrPort(s)
				if err != nil || back != ap {
					t.Errorf("%q: %v formats to %q, parses back to %v, %v", line, ap, s, back, err)
				}
			}
		}
	})
}
