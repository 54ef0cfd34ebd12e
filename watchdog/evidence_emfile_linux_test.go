package watchdog

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

// emfileChild marks the subprocess of TestEvidenceAtEMFILE, which lowers its own RLIMIT_NOFILE.
const emfileChild = "LEAKWATCH_TEST_EMFILE_CHILD"

// TestEvidenceAtEMFILE runs emfileScenario in a subprocess of its own whose RLIMIT_NOFILE is
// lowered, so that no other test of this process runs short of descriptors.
func TestEvidenceAtEMFILE(t *testing.T) {
	if os.Getenv(emfileChild) != "" {
		emfileScenario(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestEvidenceAtEMFILE$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), emfileChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestEvidenceAtEMFILE") {
		t.Fatalf("subprocess: %v\n%s", err, out)
	}
}

// emfileScenario: the process runs out of descriptors (EMFILE) by leaking files, and the fds
// alert's evidence still arrives, in the log and in the snapshot: the descriptors by kind and
// target pattern name the leaked files' directory, and the dump is written through the reserve
// descriptor. A Dumper without a reserve says why its dump is not written.
func emfileScenario(t *testing.T) {
	dir := t.TempDir()
	dumps := filepath.Join(t.TempDir(), "dumps")
	if err := os.Mkdir(dumps, 0o700); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var saved syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &saved); err != nil {
		t.Fatal(err)
	}
	lim := saved
	lim.Cur = uint64(len(ents) + 64)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &saved)

	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
		files = nil
	}
	defer closeAll()
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = 2 * time.Second // the baseline's refresh is judged at Warmup + Window, at EMFILE
		c.Attribution.DumpDir = dumps
		core, logs := observer.New(zapcore.InfoLevel)
		var mu sync.Mutex
		var got []Alert
		w, err := Start(t.Context(), c, WithLogger(zap.New(core)), OnAlert(func(a Alert) {
			mu.Lock()
			got = append(got, a)
			mu.Unlock()
		}))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the baseline is taken
		exhaust := func() {
			for {
				f, err := os.Create(filepath.Join(dir, fmt.Sprintf("leaked-%d.log", len(files))))
				if errors.Is(err, syscall.EMFILE) {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
		}
		exhaust()
		time.Sleep(10 * time.Second) // at EMFILE
		// Flat at the limit is no start-up fill: the baseline from Start is kept.
		baseFDs := make(chan int)
		w.sink.post(func() { baseFDs <- w.attr.base.FDs.Total })
		if n := <-baseFDs; n >= len(files) {
			t.Errorf("the baseline holds %d descriptors: refreshed with the %d leaked files in it", n, len(files))
		}
		// The dump's reserve lost (the leak took its slot while a dump had it): the evidence is
		// complete without the dump, and says why the dump is not written, in its String and log.
		leaked := len(files) // when the alert's evidence was taken
		lost := make(chan *Evidence)
		w.sink.post(func() {
			w.attr.dumper.Close()
			for {
				f, err := os.Create(filepath.Join(dir, fmt.Sprintf("leaked-%d.log", len(files))))
				if err != nil {
					break
				}
				files = append(files, f)
			}
			lost <- w.attribute(Alert{ID: 1 << 40, Series: SeriesFDs, Level: LevelCritical, Cause: CauseLimit}, false)
		})
		lev := <-lost
		if !strings.HasPrefix(lev.DumpError, "not written: ") || !strings.Contains(lev.DumpError, "no file descriptor left") || len(lev.Dumps) != 0 {
			t.Errorf("dump without its reserve at EMFILE: files %q, error %q; want none, saying no descriptor was left", lev.Dumps, lev.DumpError)
		}
		if len(lev.Descriptors) == 0 || lev.Descriptors[0].Pattern != filepath.Join(dir, "leaked-*.log") || lev.Report == nil {
			t.Errorf("evidence without its dump: open now %v, report %v; want the leaked files first", lev.Descriptors, lev.Report)
		}
		enc := zapcore.NewMapObjectEncoder()
		lev.MarshalLogObject(enc)
		if !strings.Contains(lev.String(), "(dump: not written: ") || !strings.Contains(fmt.Sprint(enc.Fields["dump_error"]), "no file descriptor left") {
			t.Errorf("evidence %q, logged %v: want the dump error in both", lev.String(), enc.Fields)
		}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		var al *Alert
		for i := range got {
			if got[i].Series == SeriesFDs && got[i].Level == LevelCritical {
				al = &got[i]
				break
			}
		}
		if al == nil {
			t.Fatalf("no critical fds alert at EMFILE (%d files leaked): %v", len(files), got)
		}
		ev := al.Evidence
		if ev == nil || ev.Kind != EvidenceDescriptors || ev.Report == nil {
			t.Fatalf("fds alert %v: evidence %+v", al, ev)
		}
		pattern := filepath.Join(dir, "leaked-*.log")
		if len(ev.Descriptors) == 0 || ev.Descriptors[0].Pattern != pattern || ev.Descriptors[0].Count != leaked {
			t.Errorf("open now %v, want %s with %d files first", ev.Descriptors, pattern, leaked)
		}
		if !strings.Contains(ev.Diagnosis.String(), dir) || ev.Diagnosis.Cause != attribution.CauseFileNotClosed {
			t.Errorf("diagnosis %q does not say files are not closed in %s", ev.Diagnosis.String(), dir)
		}
		if len(ev.Dumps) != 3 || ev.DumpError != "" {
			t.Errorf("dump at EMFILE: files %q, error %q; want 3 files through the reserve", ev.Dumps, ev.DumpError)
		}
		for _, p := range ev.Dumps {
			if info, err := os.Stat(p); err != nil || info.Size() == 0 {
				t.Errorf("dump file %s: %v", p, err)
			}
		}
		// In the log: the attribution entry of this alert, with its evidence.
		logged := false
		for _, e := range logs.FilterMessage("attribution").All() {
			m := e.ContextMap()
			if m["alert_id"] == al.ID {
				evm, _ := m["evidence"].(map[string]any)
				logged = evm != nil && strings.Contains(fmt.Sprint(evm["open_now"]), pattern)
			}
		}
		if !logged {
			t.Errorf("the log has no attribution entry for alert %d naming %s", al.ID, pattern)
		}
		// In the snapshot: the kept alert carries it.
		found := false
		for _, a := range w.Snapshot().Alerts {
			found = found || a.ID == al.ID && a.Evidence == ev
		}
		if !found {
			t.Errorf("the snapshot's alert %d lacks the evidence", al.ID)
		}
		// Without a reserve the dump cannot be written, and the error says why. (Stop closed
		// the watchdog's descriptors: use up their slots again.)
		exhaust()
		d := &attribution.Dumper{Dir: dumps}
		_, err = d.Dump(&attribution.Snapshot{Time: time.Now()}, nil)
		if !errors.Is(err, attribution.ErrNoDescriptors) || !errors.Is(err, syscall.EMFILE) {
			t.Errorf("dump at EMFILE without a reserve: err = %v, want ErrNoDescriptors (EMFILE)", err)
		}
	})
}
