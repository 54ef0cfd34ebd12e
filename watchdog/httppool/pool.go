package httppool

import (
	"errors"
	"fmt"
	lwname "github.com/leakwatch/leakwatch/internal/name"
	"net/http"
	"sync"
	"sync/atomic"
)

// ErrInvalidName is returned (wrapped) by [New] when the pool name does not
// match [a-z][a-z0-9_]*.
var ErrInvalidName = errors.New("httppool: invalid pool name")

// Pool collects the statistics of one logical HTTP connection pool: the
// requests sent through the round trippers returned by [Pool.Instrument] and
// [Pool.Wrap], and the connections dialed by the instrumented transports.
//
// The zero value is not usable; create a Pool with [New]. All methods are safe
// for concurrent use. A Pool holds no goroutine and needs no closing: it lives
// as long as a transport or a round tripper refers to it.
type Pool struct {
	name string

	mu      sync.Mutex                        // serialises Instrument and Wrap (copy-on-write of sources)
	byTr    map[*http.Transport]*roundTripper // guarded by mu; makes Instrument idempotent
	sources atomic.Pointer[[]*source]         // read lock-free by Stats
}

// New returns a statistics handle for the pool named name. The name must
// match [a-z][a-z0-9_]* (it becomes part of metric names and log fields);
// otherwise New returns an error wrapping [ErrInvalidName] that quotes the
// bad input. New has no side effect: nothing is registered anywhere.
func New(name string) (*Pool, error) {
	if !lwname.Valid(name) {
		return nil, fmt.Errorf("%w %q: must match %s", ErrInvalidName, name, lwname.Pattern)
	}
	p := &Pool{name: name, byTr: make(map[*http.Transport]*roundTripper)}
	empty := []*source{}
	p.sources.Store(&empty)
	return p, nil
}

// Name returns the name given to [New].
func (p *Pool) Name() string { return p.name }

// addSource appends s to the sources read by Stats. Callers hold p.mu.
func (p *Pool) addSource(s *source) {
	old := *p.sources.Load()
	next := make([]*source, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	p.sources.Store(&next)
}

// source holds the counters of one instrumented transport or one wrapped
// round tripper. Keeping them per source lets Stats pair each transport's
// in-flight requests with that transport's own connections.
type source struct {
	conns bool // connections are observed (Instrument), not only requests (Wrap)

	requests   atomic.Uint64
	errors     atomic.Uint64
	responses  atomic.Uint64
	resp5xx    atomic.Uint64
	inFlight   atomic.Int64
	opened     atomic.Uint64
	closed     atomic.Uint64
	used       atomic.Uint64 // connections that received bytes from the peer
	dialErrors atomic.Uint64
	untracked  atomic.Uint64
	http2      atomic.Bool   // a response arrived over HTTP/2 on this transport
	reusedMax  atomic.Uint64 // high-water mark of the derived reuse count
}
