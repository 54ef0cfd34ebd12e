package attribution

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// The programs of the corpus whose goroutines can never be released: a
// nil channel, select {}, and primitives nothing can reach any more. Each
// runs in a child process (this test binary again, running only
// TestCorpusChild), which prints its diagnosis and exits, its goroutines
// with it.

const corpusChildEnv = "LEAKWATCH_CORPUS_CHILD"

const corpusChildFile = "corpus_child_test.go"

// corpusNilRecv receives from a channel it never made.
func corpusNilRecv(n int) {
	var c chan int
	for range n {
		go func() {
			<-c // marker: corpusNilRecv receives
		}()
	}
}

// corpusNilSend sends on a channel it never made.
func corpusNilSend(n int) {
	var c chan int
	for range n {
		go func() {
			c <- 1 // marker: corpusNilSend sends
		}()
	}
}

// corpusSelectForever parks its goroutines in an empty select.
func corpusSelectForever(n int) {
	for range n {
		go func() {
			select {} // marker: corpusSelectForever selects
		}()
	}
}

// corpusLockLocal locks a mutex of its own, starts goroutines that lock
// it too and returns: nothing can unlock it, and the runtime can prove it.
func corpusLockLocal(n int) {
	var (
		mu   sync.Mutex
		hits int
	)
	mu.Lock()
	for range n {
		go func() {
			mu.Lock() // marker: corpusLockLocal locks
			hits++
			mu.Unlock()
		}()
	}
}

// corpusWaitLocal waits on a WaitGroup of its own that nothing calls
// Done on.
func corpusWaitLocal(n int) {
	var wg sync.WaitGroup
	wg.Add(1)
	for range n {
		go func() {
			wg.Wait() // marker: corpusWaitLocal waits
		}()
	}
}

var corpusForever = map[string]struct {
	start  func(int)
	fn     string
	op     blockOp
	marker string
	want   Cause
	says   string
}{
	"nil receive":     {corpusNilRecv, pkgPath + ".corpusNilRecv.func1", opNilChanRecv, "marker: corpusNilRecv receives", CauseNilChannel, "blocked receiving from a nil channel (blocks forever)"},
	"nil send":        {corpusNilSend, pkgPath + ".corpusNilSend.func1", opNilChanSend, "marker: corpusNilSend sends", CauseNilChannel, "blocked sending on a nil channel (blocks forever)"},
	"select {}":       {corpusSelectForever, pkgPath + ".corpusSelectForever.func1", opSelectForever, "marker: corpusSelectForever selects", CauseEmptySelect, "blocked in select {} (blocks forever)"},
	"local mutex":     {corpusLockLocal, pkgPath + ".corpusLockLocal.func1", opMutex, "marker: corpusLockLocal locks", CauseBlockedMutex, "blocked locking a sync.Mutex"},
	"local waitgroup": {corpusWaitLocal, pkgPath + ".corpusWaitLocal.func1", opWaitGroup, "marker: corpusWaitLocal waits", CauseBlockedWaitGroup, "waiting on a sync.WaitGroup whose counter never reaches zero"},
}

const corpusChildPrefix = "CORPUS-DIAGNOSIS "

// TestCorpusChild is the child process's side: it runs one program, prints
// the diagnosis as JSON and exits at once (before goleak's check: the
// goroutines are leaked on purpose).
func TestCorpusChild(t *testing.T) {
	name := os.Getenv(corpusChildEnv)
	if name == "" {
		t.Skip("runs in the child process of TestCorpusForever")
	}
	c, ok := corpusForever[name]
	if !ok {
		t.Fatalf("%s=%q: no such program", corpusChildEnv, name)
	}
	const n = 6
	base := take(t, Options{})
	c.start(n)
	waitParked(t, c.fn, c.op, n)
	b, err := json.Marshal(diagnoseSince(t, base))
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString(corpusChildPrefix + string(b) + "\n")
	os.Exit(0)
}

func TestCorpusForever(t *testing.T) {
	for name, c := range corpusForever {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCorpusChild$", "-test.count=1")
			// Under -race, a process waits a second at exit by default.
			gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
			cmd.Env = append(os.Environ(), corpusChildEnv+"="+name, "GORACE="+gorace)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.Bytes())
			}
			var d Diagnosis
			found := false
			for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); {
				if line, ok := strings.CutPrefix(sc.Text(), corpusChildPrefix); ok {
					if err := json.Unmarshal([]byte(line), &d); err != nil {
						t.Fatalf("child's diagnosis %q: %v", line, err)
					}
					found = true
				}
			}
			if !found {
				t.Fatalf("child printed no diagnosis:\n%s\nstderr:\n%s", out, stderr.Bytes())
			}
			says := []string{c.says}
			if LeakProfileAvailable() {
				says = append(says, "6 proven leaked by the goroutineleak profile: the runtime proved the")
			} else if strings.Contains(d.Summary, "proven") {
				t.Errorf("summary %q claims a proof without the profile", d.Summary)
			}
			checkDiagnosisIn(t, corpusChildFile, d, c.want, c.fn, c.marker, says...)
		})
	}
}
