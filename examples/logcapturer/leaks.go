package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
)

// leaker injects the three leaks the seed's smoke test hunts, each at a steady rate per minute,
// so that a run can be watched failing:
//
//   - goroutines blocked forever on a channel send (in [blockedForeverOnSend], the name a
//     goroutine dump and the watchdog's attribution show);
//   - files opened under a temporary directory and never closed;
//   - requests through the docker pool whose response bodies are never closed, which keep
//     their connection busy (an open FD and three goroutines each: the transport's read and
//     write loops and the daemon's connection goroutine, when the daemon is the in-process one).
type leaker struct {
	goroutinesPerMin, fdsPerMin, connsPerMin int

	docker *dockerClient
	log    *zap.Logger

	never chan int   // nobody ever receives from it
	dir   string     // where leaked files are opened
	files []*os.File // kept reachable: an unreachable *os.File would be closed by its finalizer
}

// newLeaker returns a leaker; with every rate 0 it does nothing and creates nothing.
func newLeaker(goroutines, fds, conns int, docker *dockerClient, log *zap.Logger) (*leaker, error) {
	l := &leaker{goroutinesPerMin: goroutines, fdsPerMin: fds, connsPerMin: conns,
		docker: docker, log: log, never: make(chan int)}
	if fds > 0 {
		dir, err := os.MkdirTemp("", "logcapturer-leak-")
		if err != nil {
			return nil, fmt.Errorf("leak dir: %w", err)
		}
		l.dir = dir
	}
	return l, nil
}

// active reports whether any leak is injected.
func (l *leaker) active() bool {
	return l.goroutinesPerMin > 0 || l.fdsPerMin > 0 || l.connsPerMin > 0
}

// blockedForeverOnSend is the leaked goroutine: it sends on a channel nobody receives from.
func blockedForeverOnSend(ch chan<- int, i int) {
	ch <- i
}

// leakFile opens one more file and never closes it.
func (l *leaker) leakFile(i int) error {
	f, err := os.Create(filepath.Join(l.dir, fmt.Sprintf("leaked-%06d.log", i)))
	if err != nil {
		return err
	}
	l.files = append(l.files, f)
	return nil
}

// leakConn sends one request through the docker pool and never closes its response body.
func (l *leaker) leakConn() error {
	// Not bound to the run's context: a leaked body outlives everything, as in the real bug.
	resp, err := l.docker.get(context.Background(), "/containers/json")
	if err != nil {
		return err
	}
	_ = resp // the body is never closed
	return nil
}

// run injects the leaks until ctx ends, spreading each rate evenly over the minute in steps of
// step.
func (l *leaker) run(ctx context.Context, step time.Duration) {
	if !l.active() {
		return
	}
	t := time.NewTicker(step)
	defer t.Stop()
	start := time.Now()
	var gor, fds, conns int // injected so far
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			mins := now.Sub(start).Minutes()
			for ; gor < int(mins*float64(l.goroutinesPerMin)); gor++ {
				go blockedForeverOnSend(l.never, gor)
			}
			for ; fds < int(mins*float64(l.fdsPerMin)); fds++ {
				if err := l.leakFile(fds); err != nil {
					l.log.Warn("leak: open file", zap.Error(err))
					break
				}
			}
			for ; conns < int(mins*float64(l.connsPerMin)); conns++ {
				if err := l.leakConn(); err != nil {
					l.log.Warn("leak: request", zap.Error(err))
					break
				}
			}
		}
	}
}

// cleanup removes the leak directory. The leaked files stay open until the process exits.
func (l *leaker) cleanup() {
	if l.dir != "" {
		os.RemoveAll(l.dir)
	}
}

// leakedLineSize is the size of one log line the heap leak retains.
const leakedLineSize = 256

// heapLeaker retains log lines in a map that is never pruned, at a steady rate: a cache of
// the lines seen, keyed by container and line number, as a deduplicating or replaying
// capturer keeps them when nobody evicts anything. Only its own goroutine uses it.
type heapLeaker struct {
	bytesPerMin float64
	containers  []string

	seen    map[lineKey][]byte // never pruned
	payload int64              // bytes of line text retained: len of every value
}

// lineKey identifies a log line: the container it came from and its number there.
type lineKey struct {
	container string
	line      int
}

// newHeapLeaker returns a leaker that retains about kibPerMin KiB of log lines per minute
// (the lines' text; the map's own entries add about 40% to the live heap); 0 retains nothing.
func newHeapLeaker(kibPerMin int) *heapLeaker {
	return &heapLeaker{
		bytesPerMin: float64(kibPerMin) * 1024,
		containers:  []string{"web-1", "web-2", "api-1", "api-2", "worker-1", "worker-2", "db-1", "cache-1"},
		seen:        make(map[lineKey][]byte),
	}
}

// rememberLine is the leak: it renders one log line of the container and keeps it in the map
// for good. It is the function the watchdog's heap evidence should name.
func (h *heapLeaker) rememberLine(container string, line int) {
	text := make([]byte, 0, leakedLineSize)
	text = fmt.Appendf(text, `2026-12-03T14:00:00.%09dZ stdout F {"level":"info","container":%q,"line":%d,"msg":"request served"`,
		line%1_000_000_000, container, line)
	for len(text) < leakedLineSize-1 {
		text = append(text, ' ')
	}
	text = append(text[:leakedLineSize-1], '}')
	h.seen[lineKey{container, line}] = text
	h.payload += int64(len(text))
}

// retainUntil retains lines until the payload is what mins minutes at the rate retain.
func (h *heapLeaker) retainUntil(mins float64) {
	for n := len(h.seen); float64(h.payload) < mins*h.bytesPerMin; n++ {
		h.rememberLine(h.containers[n%len(h.containers)], n/len(h.containers))
	}
}

// run retains lines at the leaker's rate until ctx ends, in steps of step.
func (h *heapLeaker) run(ctx context.Context, step time.Duration) {
	if h.bytesPerMin <= 0 {
		return
	}
	t := time.NewTicker(step)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			h.retainUntil(now.Sub(start).Minutes())
		}
	}
}
