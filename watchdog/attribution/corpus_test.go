package attribution

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The corpus: small programs, each with one way of getting goroutines
// stuck, invoked as request handlers that hit the bug. Each test takes a
// baseline, makes the requests, waits until their goroutines are parked,
// diagnoses a second snapshot (with the goroutineleak profile where the
// runtime has it) and checks the cause and the function and line named;
// then it releases every goroutine it started. Programs whose goroutines
// can never be released (a nil channel, select {}, an unreachable mutex)
// run in a child process: see corpus_child_test.go.

const corpusFile = "corpus_test.go"

// parkedIn counts the goroutines blocked in op whose stack has function fn.
func parkedIn(t *testing.T, fn string, op blockOp) int {
	t.Helper()
	n := 0
	for _, g := range take(t, Options{}).Groups {
		if g.HasFunction(fn) && blockingOf(&g).op == op {
			n += g.Count
		}
	}
	return n
}

// waitParked waits until n goroutines are blocked in op in function fn.
func waitParked(t *testing.T, fn string, op blockOp, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d goroutines blocked (op %d) in %s", n, op, fn), func() bool { return parkedIn(t, fn, op) >= n })
}

// diagnoseSince diagnoses the growth since base, asking for the leak profile.
func diagnoseSince(t *testing.T, base *Snapshot) Diagnosis {
	t.Helper()
	return Diagnose(Diff(base, take(t, Options{LeakProfile: true})), Context{})
}

// checkDiagnosis checks the cause, that the summary names fn at the line
// of marker in this file, and that it holds each of more.
func checkDiagnosis(t *testing.T, d Diagnosis, want Cause, fn, marker string, more ...string) {
	t.Helper()
	checkDiagnosisIn(t, corpusFile, d, want, fn, marker, more...)
}

// checkDiagnosisIn is checkDiagnosis for a marker in file.
func checkDiagnosisIn(t *testing.T, file string, d Diagnosis, want Cause, fn, marker string, more ...string) {
	t.Helper()
	t.Log(d)
	line := sourceLine(t, file, marker)
	where := fmt.Sprintf("%s (", fn)
	at := fmt.Sprintf("%s:%d)", file, line)
	if d.Cause != want {
		t.Errorf("cause = %v, want %v\n%s", d.Cause, want, d)
	}
	if !strings.Contains(d.Summary, where) || !strings.Contains(d.Summary, at) {
		t.Errorf("summary %q does not name %s at %s", d.Summary, fn, at)
	}
	for _, m := range more {
		if !strings.Contains(d.Summary, m) {
			t.Errorf("summary %q does not say %q", d.Summary, m)
		}
	}
	if strings.HasPrefix(d.Summary, "unknown") {
		t.Errorf("summary %q is unknown", d.Summary)
	}
}

// --- a missing Unlock on an error path ---

type corpusStore struct {
	mu sync.Mutex
	m  map[int]int
}

var errCorpus = errors.New("corpus: bad key")

// update forgets to unlock when it fails.
func (s *corpusStore) update(k int) error {
	s.mu.Lock() // marker: update locks
	if k < 0 {
		return errCorpus // the bug: no Unlock
	}
	s.m[k]++
	s.mu.Unlock()
	return nil
}

func TestCorpusMutexMissingUnlock(t *testing.T) {
	const n = 12
	fn := pkgPath + ".(*corpusStore).update"
	base := take(t, Options{})
	s := &corpusStore{m: map[int]int{}}
	if err := s.update(-1); err == nil {
		t.Fatal("update(-1) did not fail")
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _ = s.update(i) })
	}
	defer wg.Wait()
	defer s.mu.Unlock() // releases them one by one
	waitParked(t, fn, opMutex, n)
	d := diagnoseSince(t, base)
	checkDiagnosis(t, d, CauseBlockedMutex, fn, "marker: update locks",
		fmt.Sprintf("%d goroutines (+%d) blocked locking a sync.Mutex", n, n),
		"no goroutine is parked past that lock call")
}

// --- a holder parked in the critical section ---

type corpusCache struct {
	mu sync.Mutex
	v  int
}

// refresh sends while holding the lock; nobody receives.
func (c *corpusCache) refresh(out chan<- int) {
	c.mu.Lock() // marker: refresh locks
	defer c.mu.Unlock()
	out <- c.v // marker: refresh sends holding the lock
}

func TestCorpusMutexHolderParked(t *testing.T) {
	const n = 10
	fn := pkgPath + ".(*corpusCache).refresh"
	base := take(t, Options{})
	c := &corpusCache{}
	out := make(chan int)
	var wg sync.WaitGroup
	wg.Go(func() { c.refresh(out) })
	waitParked(t, fn, opChanSend, 1)
	for range n {
		wg.Go(func() { c.refresh(out) })
	}
	defer wg.Wait()
	defer func() {
		for range n + 1 {
			<-out
		}
	}()
	waitParked(t, fn, opMutex, n)
	d := diagnoseSince(t, base)
	holder := fmt.Sprintf("%s:%d)", corpusFile, sourceLine(t, corpusFile, "marker: refresh sends holding the lock"))
	checkDiagnosis(t, d, CauseBlockedMutex, fn, "marker: refresh locks",
		"blocked locking a sync.Mutex", "1 goroutines parked past that lock call in "+fn, holder+", on chan send, likely hold it")
}

// --- a WaitGroup.Add without its Done ---

// corpusBatch is one request's fan-out; the test keeps it to release it.
type corpusBatch struct{ wg sync.WaitGroup }

// collect fans out n tasks; the first returns without Done.
func collect(b *corpusBatch, n int) {
	for i := range n {
		b.wg.Add(1)
		go func() {
			if i == 0 {
				return // the bug: no Done
			}
			b.wg.Done()
		}()
	}
	b.wg.Wait() // marker: collect waits
}

func TestCorpusWaitGroupAddWithoutDone(t *testing.T) {
	const n = 8
	fn := pkgPath + ".collect"
	base := take(t, Options{})
	batches := make([]*corpusBatch, n)
	var wg sync.WaitGroup
	for i := range batches {
		b := &corpusBatch{}
		batches[i] = b
		wg.Go(func() { collect(b, 3) })
	}
	defer wg.Wait()
	defer func() {
		for _, b := range batches {
			b.wg.Done()
		}
	}()
	waitParked(t, fn, opWaitGroup, n)
	waitFor(t, "the tasks to end", func() bool { return parkedIn(t, fn+".func1", opNone) == 0 })
	d := diagnoseSince(t, base)
	checkDiagnosis(t, d, CauseBlockedWaitGroup, fn, "marker: collect waits",
		"waiting on a sync.WaitGroup whose counter never reaches zero", "Done is likely never called")
}

// --- a Cond.Wait with no Signal ---

type corpusQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []int
	closed bool
}

func newCorpusQueue() *corpusQueue {
	q := &corpusQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push appends and forgets to signal.
func (q *corpusQueue) push(v int) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock() // the bug: no q.cond.Signal()
}

func (q *corpusQueue) pop() (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait() // marker: pop waits
	}
	if len(q.items) == 0 {
		return 0, false
	}
	v := q.items[0]
	q.items = q.items[1:]
	return v, true
}

func TestCorpusCondWithoutSignal(t *testing.T) {
	const n = 9
	fn := pkgPath + ".(*corpusQueue).pop"
	base := take(t, Options{})
	q := newCorpusQueue()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { q.pop() })
	}
	defer wg.Wait()
	defer func() {
		q.mu.Lock()
		q.closed = true
		q.cond.Broadcast()
		q.mu.Unlock()
	}()
	waitParked(t, fn, opCond, n)
	q.push(1) // wakes nobody
	d := diagnoseSince(t, base)
	checkDiagnosis(t, d, CauseBlockedCond, fn, "marker: pop waits", "waiting on a sync.Cond never signalled")
}

// --- an RWMutex reader-writer cycle: a recursive RLock behind a writer ---

type corpusRegistry struct {
	mu     sync.RWMutex
	m      map[string]int
	pause  chan struct{} // holds the first reader between its two RLocks
	stolen atomic.Bool   // the test released the first reader's read lock
}

// lookup read-locks, then calls size, which read-locks again: with a
// writer waiting in between, neither can proceed.
func (r *corpusRegistry) lookup(k string, first bool) int {
	r.mu.RLock() // marker: lookup read-locks
	defer func() {
		if !first || !r.stolen.Load() {
			r.mu.RUnlock()
		}
	}()
	if first {
		<-r.pause
	} else if r.stolen.Load() {
		return r.m[k] // after the release, the later readers skip the bug
	}
	return r.size() // marker: lookup calls size
}

func (r *corpusRegistry) size() int {
	r.mu.RLock() // marker: size read-locks again
	defer r.mu.RUnlock()
	return len(r.m)
}

func (r *corpusRegistry) set(k string, v int) {
	r.mu.Lock() // marker: set locks
	defer r.mu.Unlock()
	r.m[k] = v
}

func TestCorpusRWMutexReaderWriterCycle(t *testing.T) {
	t.Run("more readers", func(t *testing.T) { corpusRWCycle(t, 10, 5) })
	t.Run("more writers", func(t *testing.T) { corpusRWCycle(t, 3, 10) })
}

func corpusRWCycle(t *testing.T, readers, writers int) {
	lookup, set := pkgPath+".(*corpusRegistry).lookup", pkgPath+".(*corpusRegistry).set"
	base := take(t, Options{})
	r := &corpusRegistry{m: map[string]int{}, pause: make(chan struct{})}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { r.lookup("a", true) })
	waitParked(t, lookup, opChanRecv, 1) // the first reader holds its read lock
	wg.Go(func() { r.set("a", 1) })
	waitParked(t, set, opRWWriteReaders, 1)
	close(r.pause)
	waitParked(t, pkgPath+".(*corpusRegistry).size", opRWRead, 1)
	// The release: the test gives up the first reader's read lock for it.
	defer func() {
		r.stolen.Store(true)
		r.mu.RUnlock()
	}()
	for range readers {
		wg.Go(func() { r.lookup("a", false) })
	}
	for range writers {
		wg.Go(func() { r.set("b", 2) })
	}
	waitParked(t, lookup, opRWRead, readers+1)
	waitParked(t, set, opRWWriteWriter, writers)
	d := diagnoseSince(t, base)
	fn, marker, what := lookup, "marker: lookup read-locks", "blocked locking a sync.RWMutex for reading while a writer holds or waits for it"
	if writers > readers {
		fn, marker, what = set, "marker: set locks", "blocked locking a sync.RWMutex for writing while another writer holds it"
	}
	checkDiagnosis(t, d, CauseLockCycle, fn, marker, what,
		"reader-writer cycle on a sync.RWMutex",
		fmt.Sprintf("%s:%d) and wait to read-lock again at line %d", corpusFile,
			sourceLine(t, corpusFile, "marker: lookup read-locks"), sourceLine(t, corpusFile, "marker: size read-locks again")),
		"behind 1 writers in "+set)
}

// --- a two-lock cycle: two handlers take two locks in opposite orders ---

type corpusAccounts struct {
	a, b     sync.Mutex
	haveA    chan struct{} // the first debit holds a
	haveB    chan struct{} // the first credit holds b
	proceed  chan struct{}
	released atomic.Bool  // the test unlocked a and b for the first two
	moves    atomic.Int64 // under both locks (atomic: after the release, the first two hold one each)
}

// debit locks a, then b.
func (x *corpusAccounts) debit(first bool) {
	x.a.Lock() // marker: debit locks a
	if !first && x.released.Load() {
		x.a.Unlock()
		return
	}
	if first {
		x.haveA <- struct{}{}
		<-x.proceed
	}
	x.b.Lock() // marker: debit locks b
	x.moves.Add(1)
	x.b.Unlock()
	if !first {
		x.a.Unlock()
	}
}

// credit locks b, then a.
func (x *corpusAccounts) credit(first bool) {
	x.b.Lock() // marker: credit locks b
	if !first && x.released.Load() {
		x.b.Unlock()
		return
	}
	if first {
		x.haveB <- struct{}{}
		<-x.proceed
	}
	x.a.Lock() // marker: credit locks a
	x.moves.Add(1)
	x.a.Unlock()
	if !first {
		x.b.Unlock()
	}
}

func TestCorpusTwoLockCycle(t *testing.T) {
	const debits, credits = 9, 6
	debit, credit := pkgPath+".(*corpusAccounts).debit", pkgPath+".(*corpusAccounts).credit"
	base := take(t, Options{})
	x := &corpusAccounts{haveA: make(chan struct{}), haveB: make(chan struct{}), proceed: make(chan struct{})}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { x.debit(true) })
	wg.Go(func() { x.credit(true) })
	<-x.haveA
	<-x.haveB
	close(x.proceed)
	waitParked(t, debit, opMutex, 1)
	waitParked(t, credit, opMutex, 1)
	// The release: the first debit's a and the first credit's b, unlocked
	// for them; every later request then takes one lock only.
	defer func() {
		x.released.Store(true)
		x.a.Unlock()
		x.b.Unlock()
	}()
	for range debits {
		wg.Go(func() { x.debit(false) })
	}
	for range credits {
		wg.Go(func() { x.credit(false) })
	}
	waitParked(t, debit, opMutex, debits+1)
	waitParked(t, credit, opMutex, credits+1)
	d := diagnoseSince(t, base)
	line := func(m string) int { return sourceLine(t, corpusFile, m) }
	checkDiagnosis(t, d, CauseLockCycle, debit, "marker: debit locks a",
		fmt.Sprintf("%d goroutines (+%d) blocked locking a sync.Mutex", debits, debits),
		fmt.Sprintf("lock cycle: 1 goroutines hold the lock taken in %s (", debit),
		fmt.Sprintf("%s:%d) and wait for another at line %d", corpusFile, line("marker: debit locks a"), line("marker: debit locks b")),
		fmt.Sprintf("while 1 hold the lock taken in %s (", credit),
		fmt.Sprintf("%s:%d) and wait for another at line %d", corpusFile, line("marker: credit locks b"), line("marker: credit locks a")))
}

// --- a producer that returns early and leaves its consumers receiving ---

// corpusPipeline starts workers reading jobs, then feeds them; on a bad
// item it returns without closing jobs. It returns jobs for the test.
func corpusPipeline(items []int, workers int, done *sync.WaitGroup) chan int {
	jobs := make(chan int)
	for range workers {
		done.Go(func() {
			for j := range jobs { // marker: consumers receive
				_ = j
			}
		})
	}
	for _, it := range items {
		if it < 0 {
			return jobs // the bug: no close(jobs)
		}
		jobs <- it
	}
	close(jobs)
	return jobs
}

func TestCorpusProducerExitsEarly(t *testing.T) {
	const requests, workers = 4, 3
	fn := pkgPath + ".corpusPipeline.func1"
	base := take(t, Options{})
	var wg sync.WaitGroup
	defer wg.Wait()
	for range requests {
		jobs := corpusPipeline([]int{1, 2, -1, 3}, workers, &wg)
		defer close(jobs)
	}
	waitParked(t, fn, opChanRecv, requests*workers)
	d := diagnoseSince(t, base)
	checkDiagnosis(t, d, CauseBlockedChannelReceive, fn, "marker: consumers receive",
		fmt.Sprintf("%d goroutines (+%d) blocked receiving from a channel nobody sends on or closes", requests*workers, requests*workers),
		"no goroutine that grew is parked sending: the sender likely returned without closing the channel")
}

// --- a select with no case ready ---

// awaitReply waits for a reply or a cancellation; neither comes.
func awaitReply(reply <-chan int, cancel <-chan struct{}) {
	select { // marker: awaitReply selects
	case <-reply:
	case <-cancel:
	}
}

func TestCorpusSelectNoCaseReady(t *testing.T) {
	const n = 7
	fn := pkgPath + ".awaitReply"
	base := take(t, Options{})
	reply, cancel := make(chan int), make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { awaitReply(reply, cancel) })
	}
	defer wg.Wait()
	defer close(cancel)
	waitParked(t, fn, opSelect, n)
	d := diagnoseSince(t, base)
	checkDiagnosis(t, d, CauseBlockedSelect, fn, "marker: awaitReply selects", "blocked in a select with no case ready")
}

// --- time.After in a loop: timers, not goroutines; not a leak ---

// pollLoop waits for work or a timeout in a loop, a fresh time.After each
// time round (since Go 1.23 an unreferenced timer is collected).
func pollLoop(work <-chan int, done chan<- int, stop <-chan struct{}) {
	for {
		select { // marker: pollLoop selects
		case v := <-work:
			done <- v
		case <-time.After(time.Hour):
		case <-stop:
			return
		}
	}
}

func TestCorpusTimeAfterLoopIsNoLeak(t *testing.T) {
	const workers, rounds = 4, 2000
	fn := pkgPath + ".pollLoop"
	work, done, stop := make(chan int), make(chan int), make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { pollLoop(work, done, stop) })
	}
	defer wg.Wait()
	defer close(stop)
	waitParked(t, fn, opSelect, workers)
	base := take(t, Options{})
	for i := range rounds {
		work <- i
		<-done
	}
	var d Diagnosis
	var rep *Report
	waitFor(t, "the workers back in their select", func() bool {
		if parkedIn(t, fn, opSelect) != workers {
			return false
		}
		rep = Diff(base, take(t, Options{LeakProfile: true}))
		d = Diagnose(rep, Context{})
		return true
	})
	if d.Cause != CauseUnknown || strings.Contains(d.Summary, "pollLoop") {
		t.Errorf("diagnosis %v %q names the time.After loop as a leak", d.Cause, d.String())
		for _, g := range base.Groups {
			if g.HasFunction(fn) {
				t.Logf("base %d %s", g.Count, g.Key)
			}
		}
		for _, g := range rep.Groups {
			t.Logf("now %d %d %s", g.Count, g.Delta, g.Key)
		}
	}
}

// --- senders whose receiver is parked elsewhere ---

// corpusGather starts two workers that send their results, then waits for
// quit before it reads them: the workers stay blocked until then.
func corpusGather(quit <-chan struct{}) int {
	res := make(chan int)
	for range 2 {
		go func() {
			res <- 1 // marker: gather workers send
		}()
	}
	<-quit // marker: gather waits for quit
	return <-res + <-res
}

func TestCorpusReceiverParkedElsewhere(t *testing.T) {
	const n = 5
	fn, handler := pkgPath+".corpusGather.func1", pkgPath+".corpusGather"
	base := take(t, Options{})
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { corpusGather(quit) })
	}
	defer wg.Wait()
	defer close(quit)
	waitParked(t, fn, opChanSend, 2*n)
	waitParked(t, handler, opChanRecv, n)
	d := diagnoseSince(t, base)
	checkDiagnosis(t, d, CauseBlockedChannelSend, fn, "marker: gather workers send",
		"blocked sending on a channel nobody receives from",
		fmt.Sprintf("the goroutines that could be the receiver (%d in %s (", n, handler),
		fmt.Sprintf("%s:%d)) are parked elsewhere (chan receive), not receiving", corpusFile, sourceLine(t, corpusFile, "marker: gather waits for quit")))
}

// --- a WaitGroup whose workers are blocked sending to the waiter ---

// corpusFanIn waits for its workers before reading their results: the
// workers block sending, so Done is never reached and Wait never returns.
func corpusFanIn(results chan int, workers int) (sum int) {
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- i // marker: fan-in workers send
		}()
	}
	wg.Wait() // marker: fan-in waits
	return sum
}

func TestCorpusWaitGroupWorkersBlocked(t *testing.T) {
	const requests, workers = 4, 3
	fn, waiter := pkgPath+".corpusFanIn.func1", pkgPath+".corpusFanIn"
	base := take(t, Options{})
	results := make(chan int)
	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() { corpusFanIn(results, workers) })
	}
	defer wg.Wait()
	defer func() {
		for range requests * workers {
			<-results
		}
	}()
	waitParked(t, fn, opChanSend, requests*workers)
	waitParked(t, waiter, opWaitGroup, requests)
	d := diagnoseSince(t, base)
	checkDiagnosis(t, d, CauseBlockedChannelSend, fn, "marker: fan-in workers send",
		fmt.Sprintf("the goroutines that could be the receiver (%d in %s (", requests, waiter),
		fmt.Sprintf("%s:%d)) are parked elsewhere (sync), not receiving", corpusFile, sourceLine(t, corpusFile, "marker: fan-in waits")))
	also := fmt.Sprintf("also suspected (blocked_waitgroup): %d goroutines (+%d) waiting on a sync.WaitGroup whose counter never reaches zero, in %s (", requests, requests, waiter)
	if !strings.Contains(d.String(), also) || !strings.Contains(d.String(), fmt.Sprintf("the goroutines it started (%d in %s (", requests*workers, fn)) {
		t.Errorf("evidence does not name the WaitGroup and the workers it started:\n%s", d)
	}
}
