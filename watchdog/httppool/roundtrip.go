package httppool

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
)

// Instrument makes t report to p and returns the round tripper to use in its
// place (for example as http.Client.Transport).
//
// It replaces t.DialContext (nil means a zero net.Dialer, as in
// http.Transport; a deprecated Dial is honoured) and, when set,
// t.DialTLSContext or the deprecated t.DialTLS, with functions that count and
// wrap each connection. TLS done by the transport, unix sockets and HTTP/2
// keep working. Call Instrument before t is first used, like any other
// change to an http.Transport; it panics if t is nil. Calling it again with
// the same t returns the same round tripper. Several transports may report to
// one Pool.
//
// The returned round tripper counts requests and wraps each response body
// (one allocation per response with a body) to see when the request ends. It
// forwards CloseIdleConnections to t, so http.Client.CloseIdleConnections
// works through it.
func (p *Pool) Instrument(t *http.Transport) http.RoundTripper {
	if t == nil {
		panic("httppool: Instrument of a nil *http.Transport")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rt, ok := p.byTr[t]; ok {
		return rt
	}
	s := &source{conns: true}
	switch {
	case t.DialContext != nil:
		t.DialContext = s.wrapDial(t.DialContext, false)
	//lint:ignore SA1019 transports still built with the deprecated Dial must be counted too
	case t.Dial != nil:
		dial := t.Dial //lint:ignore SA1019 as above
		t.DialContext = s.wrapDial(func(_ context.Context, network, addr string) (net.Conn, error) {
			return dial(network, addr)
		}, false)
		//lint:ignore SA1019 replaced by the wrapped DialContext
		t.Dial = nil
	default:
		t.DialContext = s.wrapDial(zeroDialer.DialContext, false)
	}
	switch {
	case t.DialTLSContext != nil:
		t.DialTLSContext = s.wrapDial(t.DialTLSContext, true)
	//lint:ignore SA1019 transports still built with the deprecated DialTLS must be counted too
	case t.DialTLS != nil:
		dial := t.DialTLS //lint:ignore SA1019 as above
		t.DialTLSContext = s.wrapDial(func(_ context.Context, network, addr string) (net.Conn, error) {
			return dial(network, addr)
		}, true)
		//lint:ignore SA1019 replaced by the wrapped DialTLSContext
		t.DialTLS = nil
	}
	rt := &roundTripper{next: t, src: s}
	p.byTr[t] = rt
	p.addSource(s)
	return rt
}

// Wrap returns a round tripper around rt that reports requests to p, for a
// transport whose dials cannot be wrapped (not an *http.Transport, or one you
// do not own). It is less exact than [Pool.Instrument]: Requests, Errors,
// Responses, Responses5xx and InFlight are counted, but the connection
// fields (Opened, Closed, Open, Active, Idle, Reused, Waiting, DialErrors)
// see nothing from it. Each call adds a new source; it panics if rt is nil.
// The result forwards CloseIdleConnections to rt when rt has that method.
func (p *Pool) Wrap(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		panic("httppool: Wrap of a nil http.RoundTripper")
	}
	s := &source{}
	p.mu.Lock()
	p.addSource(s)
	p.mu.Unlock()
	return &roundTripper{next: rt, src: s}
}

type roundTripper struct {
	next http.RoundTripper
	src  *source
}

// RoundTrip implements http.RoundTripper.
func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	s := rt.src
	s.requests.Add(1)
	s.inFlight.Add(1)
	resp, err := rt.next.RoundTrip(req)
	if err != nil {
		s.errors.Add(1)
		s.inFlight.Add(-1)
		return resp, err
	}
	s.responses.Add(1)
	if resp.StatusCode >= 500 && resp.StatusCode <= 599 {
		s.resp5xx.Add(1)
	}
	if resp.ProtoMajor == 2 && s.conns && !s.http2.Load() {
		s.http2.Store(true)
	}
	// No body: the request is over. 101 Switching Protocols: the body is
	// the hijacked connection (an io.ReadWriteCloser that must stay one); the
	// transport no longer owns it, and the connection itself stays counted
	// until closed.
	if resp.Body == nil || resp.Body == http.NoBody || resp.StatusCode == http.StatusSwitchingProtocols {
		s.inFlight.Add(-1)
		return resp, nil
	}
	resp.Body = &body{ReadCloser: resp.Body, src: s}
	return resp, nil
}

// CloseIdleConnections forwards to the wrapped round tripper if it has the
// method.
func (rt *roundTripper) CloseIdleConnections() {
	if c, ok := rt.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// body ends its request (once) on Close or when Read returns an error,
// io.EOF included.
type body struct {
	io.ReadCloser
	src  *source
	done atomic.Bool
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.finish()
	}
	return n, err
}

func (b *body) Close() error {
	b.finish()
	return b.ReadCloser.Close()
}

func (b *body) finish() {
	if !b.done.Load() && b.done.CompareAndSwap(false, true) {
		b.src.inFlight.Add(-1)
	}
}
