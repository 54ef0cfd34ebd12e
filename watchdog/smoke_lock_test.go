package watchdog

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// assertInMemory checks that every format of rep says the run is kept in memory, with why.
func assertInMemory(t *testing.T, rep SmokeReport, why string) {
	t.Helper()
	const mem = "kept in memory only"
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	page, err := renderSmokePage(rep, nil, rep.Started)
	if err != nil {
		t.Fatal(err)
	}
	for format, out := range map[string]string{"text": rep.Text(), "JSON": string(js), "Markdown": rep.Markdown(), "HTML": string(page)} {
		if !strings.Contains(out, mem) || !strings.Contains(out, why) {
			t.Errorf("%s does not say the run is %s (%s):\n%s", format, mem, why, out)
		}
	}
}

// runOnStateFile starts a watchdog whose smoke run keeps its state at path, lets it run for d,
// and returns its smoke report, taken before Stop (which must succeed).
func runOnStateFile(t *testing.T, path string, d time.Duration) SmokeReport {
	t.Helper()
	c := smokeConfig()
	c.Smoke.StateFile = path
	w, err := Start(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	rep := w.SmokeReport()
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestSmokeStateDirMissing: a state file whose directory does not exist: Start succeeds, the
// run runs in memory, and every format of the report says so.
func TestSmokeStateDirMissing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "missing")
		rep := runOnStateFile(t, filepath.Join(dir, "smoke.state"), 5*time.Second)
		if rep.Status != SmokeRunning || len(rep.Checkpoints) != 1 {
			t.Errorf("status %q with %d checkpoints, want the run going", rep.Status, len(rep.Checkpoints))
		}
		assertInMemory(t, rep, "does not exist")
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s was created", dir)
		}
	})
}

// TestSmokeStateNotRegularLeftAlone: a state file path that names a directory (or a FIFO) is
// neither read, nor renamed aside, nor replaced: the run stays in memory and says so.
func TestSmokeStateNotRegularLeftAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "smoke.state")
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(path, "keep"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		c := smokeConfig()
		c.Smoke.StateFile = path
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(17 * time.Second) // the whole run: its end would save the state
		rep := w.SmokeReport()
		// A run started later on the same path (the lock is this watchdog's) checks the
		// file again.
		if err := w.StartSmoke(c.Smoke); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		again := w.SmokeReport()
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		assertInMemory(t, again, "not a regular file")
		if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
			t.Fatalf("%s: %v, %v; want the directory left in place", path, fi, err)
		}
		if b, err := os.ReadFile(filepath.Join(path, "keep")); err != nil || string(b) != "x" {
			t.Errorf("the directory's content changed: %q, %v", b, err)
		}
		if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 0 {
			t.Errorf("set aside: %v", m)
		}
		if rep.Status != SmokePassed {
			t.Errorf("status %q, want the in-memory run to finish", rep.Status)
		}
		assertInMemory(t, rep, "not a regular file")
	})
}

// TestSmokeStateUnreadableLeftAlone: a state file that exists but cannot be read (permission
// denied) is not treated as corrupt: it is neither moved aside nor overwritten.
func TestSmokeStateUnreadableLeftAlone(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs Unix permissions that bind the test (not root)")
	}
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "smoke.state")
		if err := os.WriteFile(path, validStateFile(t), 0o000); err != nil {
			t.Fatal(err)
		}
		rep := runOnStateFile(t, path, 5*time.Second)
		os.Chmod(path, 0o600)
		if b, err := os.ReadFile(path); err != nil || string(b) != string(validStateFile(t)) {
			t.Errorf("unreadable state file changed: %v", err)
		}
		if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 0 {
			t.Errorf("set aside: %v", m)
		}
		assertInMemory(t, rep, "permission denied")
	})
}

// TestSmokeStateOwnedByOtherProcess: a child process (this test binary, re-executed) runs a
// smoke run on a state file; a second watchdog here, pointed at the same file, does not take
// that live run over or count a restart: it runs its own in memory and says another process
// owns the file. Once the child has stopped, its run is in the file with no restart.
func TestSmokeStateOwnedByOtherProcess(t *testing.T) {
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no child processes")
	}
	path := filepath.Join(t.TempDir(), "smoke.state")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSmokeStateOwnerChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LEAKWATCH_STATE_CHILD="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() // a no-op once it has exited
	sc := bufio.NewScanner(stdout)
	ready := false
	for sc.Scan() {
		if sc.Text() == "child: running" {
			ready = true
			break
		}
	}
	if !ready {
		t.Fatalf("child did not start its run: %v", cmd.Wait())
	}
	go io.Copy(io.Discard, stdout)

	rep := runOnStateFile(t, path, 0)
	if rep.Restarts != 0 || rep.Status != SmokeRunning && rep.Status != SmokeFailed {
		t.Errorf("second process: status %q, restarts %d; want its own run, no restart", rep.Status, rep.Restarts)
	}
	assertInMemory(t, rep, "another process")
	if !strings.Contains(strings.Join(rep.Notes, " "), "PID "+strconv.Itoa(cmd.Process.Pid)) {
		t.Errorf("notes %q do not name the owner PID %d", rep.Notes, cmd.Process.Pid)
	}

	stdin.Close() // the child stops, keeping its run in the file
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseSmokeState(b)
	if err != nil {
		t.Fatal(err)
	}
	if st.Run.Status != SmokeRunning || st.Run.Restarts != 0 {
		t.Errorf("the child's run in the file: status %q, restarts %d; want running (kept by its Stop), 0 restarts", st.Run.Status, st.Run.Restarts)
	}
	// Now nobody owns it: a watchdog resumes it.
	c := smokeConfig()
	c.Smoke.StateFile = path
	w, err := Start(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	rep = w.SmokeReport()
	w.Stop()
	if rep.Restarts != 1 {
		t.Errorf("after the owner stopped: restarts %d, want the run resumed (1)", rep.Restarts)
	}
}

// TestSmokeStateOwnerChild is the child of TestSmokeStateOwnedByOtherProcess: a run of an hour
// on the state file, kept until its stdin closes.
func TestSmokeStateOwnerChild(t *testing.T) {
	path := os.Getenv("LEAKWATCH_STATE_CHILD")
	if path == "" {
		t.Skip("run by TestSmokeStateOwnedByOtherProcess")
	}
	c := smokeConfig()
	c.Smoke = SmokeConfig{Enabled: true, Duration: time.Hour, Checkpoint: 30 * time.Minute, StateFile: path}
	w, err := Start(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	for { // the baseline is saved at the first tick
		if _, err := os.Stat(path); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	os.Stdout.WriteString("child: running\n")
	io.Copy(io.Discard, os.Stdin)
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestSmokeCrashLoopBounded: a run that survives many restarts (a crash loop) keeps counting
// them, but its notes and its "Resumed:" lines are capped, so its state file stays loadable.
func TestSmokeCrashLoopBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := smokeConfig()
		c.Smoke.Duration, c.Smoke.Checkpoint = time.Hour, 30*time.Minute
		c.Smoke.StateFile = filepath.Join(t.TempDir(), "smoke.state")
		const restarts = 80
		var rep SmokeReport
		for range restarts + 1 {
			w, err := Start(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			rep = w.SmokeReport()
			if err := w.Stop(); err != nil {
				t.Fatal(err)
			}
		}
		if rep.Restarts != restarts {
			t.Errorf("restarts = %d, want %d (the run kept across every restart)", rep.Restarts, restarts)
		}
		if len(rep.Notes) > smokeMaxNotes {
			t.Errorf("%d notes, want at most %d", len(rep.Notes), 32)
		}
		if !strings.Contains(rep.Notes[len(rep.Notes)-1], "(restart 80)") {
			t.Errorf("last note %q, want the newest restart", rep.Notes[len(rep.Notes)-1])
		}
		if n := strings.Count(rep.Text(), "Resumed:"); n != smokeMaxResumeLines {
			t.Errorf("%d Resumed lines, want %d", n, smokeMaxResumeLines)
		}
	})
}

// TestSmokeStaleTempsRemoved: the temporary files of state writes that a dying process left
// beside the state file (a crash loop piles them up) are removed once the state file is
// locked; other files are not.
func TestSmokeStaleTempsRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "smoke.state")
		stale := []string{path + ".tmp-123", path + ".tmp-456"}
		keep := []string{filepath.Join(dir, "other.tmp-1"), path + ".corrupt-20000101T000000Z"}
		for _, f := range append(append([]string(nil), stale...), keep...) {
			if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		c := smokeConfig()
		c.Smoke.StateFile = path
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		w.Stop()
		for _, f := range stale {
			if _, err := os.Stat(f); err == nil {
				t.Errorf("%s left behind", f)
			}
		}
		for _, f := range keep {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("%s removed: %v", f, err)
			}
		}
	})
}
