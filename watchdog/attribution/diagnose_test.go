package attribution

import (
	"strings"
	"testing"
)

func TestDiagnoseTable(t *testing.T) {
	send := GroupDelta{Group: Group{Key: "s", Count: 9, Wait: WaitChanSend, Top: Frame{"main.produce", "main.go", 12}}, Base: 1, Delta: 8}
	recv := GroupDelta{Group: Group{Key: "r", Count: 4, Leaked: 4, Wait: WaitChanReceive, Top: Frame{"main.consume", "main.go", 30}}, Delta: 4}
	sleep := GroupDelta{Group: Group{Key: "z", Count: 2, Wait: WaitSleep, Top: Frame{"main.poll", "main.go", 40}}, Delta: 2}
	files := FDClassDelta{FDClass: FDClass{FDFile, "/var/lib/app", 50}, Base: 10, Delta: 40}
	for _, tc := range []struct {
		name     string
		r        *Report
		ctx      Context
		want     Cause
		contains string
	}{
		{"nil report", nil, Context{}, CauseUnknown, "no report"},
		{"empty", &Report{}, Context{}, CauseUnknown, "no known leak pattern"},
		{"small growth is unknown", &Report{Groups: []GroupDelta{sleep}}, Context{}, CauseUnknown, "+2 goroutines (sleep) in main.poll (main.go:40)"},
		{"chan send", &Report{Groups: []GroupDelta{send}}, Context{}, CauseBlockedChannelSend, "main.produce (main.go:12)"},
		{"chan send under threshold", &Report{Groups: []GroupDelta{send}}, Context{MinGrowth: 9}, CauseUnknown, "main.produce"},
		{"proven receive", &Report{Groups: []GroupDelta{recv}, LeakProfile: true}, Context{}, CauseBlockedChannelReceive, "blocked receiving from a channel nobody sends on or closes, in main.consume (main.go:30), 4 proven leaked"},
		{"growing receive, unproven", &Report{Groups: []GroupDelta{{Group: Group{Key: "r", Count: 9, Wait: WaitChanReceive, Top: Frame{"main.worker", "w.go", 7}}, Delta: 9}}}, Context{}, CauseBlockedChannelReceive, "9 goroutines (+9) blocked receiving from a channel nobody sends on or closes, in main.worker (w.go:7)"},
		{"proven select", &Report{Groups: []GroupDelta{{Group: Group{Key: "s", Count: 4, Leaked: 4, Wait: WaitSelect, Top: Frame{"main.wait", "s.go", 3}}, Delta: 4}}, LeakProfile: true}, Context{}, CauseProvenGoroutineLeak, "4 goroutines proven leaked"},
		{"proven before the baseline is not this alert", &Report{Groups: []GroupDelta{{Group: recv.Group, Base: 4}}, LeakProfile: true}, Context{}, CauseUnknown, "no known leak pattern"},
		{"http alert favours the pool over files", &Report{
			Groups: []GroupDelta{{Group: Group{Key: "g", Count: 5, Wait: WaitSelect, Top: Frame{"main.call", "c.go", 9},
				Frames: []Frame{{Function: fnGetConn}, {Function: "main.call"}}}, Delta: 5}},
			FDClasses: []FDClassDelta{{FDClass: FDClass{FDFile, "/d", 8}, Delta: 8}}},
			Context{Series: []SeriesRate{{Name: "http_docker_waiting", Level: "warning"}}, Pools: []PoolStats{{Name: "docker", Waiting: 5}}},
			CausePoolStarved, `transport "docker"`},
		{"files", &Report{FDClasses: []FDClassDelta{files}}, Context{}, CauseFileNotClosed, "under /var/lib/app"},
		{"bodies over a unix socket", &Report{
			Groups: []GroupDelta{
				{Group: Group{Key: "rl", Count: 6, Wait: WaitSelect, Top: Frame{fnReadLoop, "transport.go", 1}, Frames: []Frame{{Function: fnReadLoop}}}, Delta: 6},
				{Group: Group{Key: "wl", Count: 6, Wait: WaitSelect, Top: Frame{fnWriteLoop, "transport.go", 2}, Frames: []Frame{{Function: fnWriteLoop}}}, Delta: 6}},
			FDClasses: []FDClassDelta{{FDClass: FDClass{FDUnix, "to /var/run/docker.sock", 6}, Delta: 6}}},
			Context{Pools: []PoolStats{{Name: "docker", Open: 6, OpenDelta: 6, Active: 6, ActiveDelta: 6}}},
			CauseUnclosedResponseBody, `transport "docker" to /var/run/docker.sock: +12 connection goroutines (readLoop/writeLoop) and +6 sockets`},
		{"fds alert favours files", &Report{Groups: []GroupDelta{send}, FDClasses: []FDClassDelta{{FDClass: FDClass{FDFile, "/d", 10}, Delta: 6}}},
			Context{Series: []SeriesRate{{Name: "fds", Level: "critical", PerMinute: 40}}}, CauseFileNotClosed, "under /d"},
		{"goroutine alert favours send", &Report{Groups: []GroupDelta{send}, FDClasses: []FDClassDelta{{FDClass: FDClass{FDFile, "/d", 10}, Delta: 6}}},
			Context{Series: []SeriesRate{{Name: "goroutines", Level: "warning", PerMinute: 40}}}, CauseBlockedChannelSend, "main.produce"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Diagnose(tc.r, tc.ctx)
			if d.Cause != tc.want || !strings.Contains(d.Summary, tc.contains) {
				t.Errorf("Diagnose = %v %q, want %v containing %q", d.Cause, d.Summary, tc.want, tc.contains)
			}
		})
	}
}

func TestDiagnoseEvidence(t *testing.T) {
	r := &Report{
		Groups:    []GroupDelta{{Group: Group{Key: "s", Count: 9, Wait: WaitChanSend, Top: Frame{"main.produce", "main.go", 12}}, Delta: 9}},
		FDClasses: []FDClassDelta{{FDClass: FDClass{FDFile, "/d", 4}, Delta: 4}},
	}
	d := Diagnose(r, Context{Series: []SeriesRate{{Name: "goroutines", Level: "warning", PerMinute: 22.5}}})
	want := []string{
		"series goroutines at warning: +22.5/min",
		"9 goroutines (+9) chan send in main.produce (main.go:12)",
		"no goroutineleak profile: the leak is inferred from growth, not proven",
		"also suspected (file_not_closed): files opened and never closed under /d: 4 open descriptors (+4)",
	}
	if strings.Join(d.Evidence, "\n") != strings.Join(want, "\n") {
		t.Errorf("evidence:\n%s\nwant:\n%s", strings.Join(d.Evidence, "\n"), strings.Join(want, "\n"))
	}
}

func TestCauseStrings(t *testing.T) {
	for c := CauseUnknown; c <= CauseProvenGoroutineLeak; c++ {
		if s := c.String(); s == "" || (c != CauseUnknown && s == "unknown") {
			t.Errorf("Cause(%d).String() = %q", c, s)
		}
	}
	if Cause(99).String() != "unknown" || WaitKind(99).String() != "unknown" || TCPState(99).String() != "UNKNOWN" {
		t.Error("out-of-range values do not read unknown")
	}
	var k WaitKind
	if err := k.UnmarshalText([]byte("chan send")); err != nil || k != WaitChanSend {
		t.Errorf("UnmarshalText = %v, %v", k, err)
	}
}
