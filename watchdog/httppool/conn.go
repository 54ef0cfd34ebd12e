package httppool

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"sync/atomic"
)

type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// zeroDialer is what http.Transport uses when DialContext and Dial are nil.
var zeroDialer net.Dialer

// conn is a connection dialed by an instrumented transport. It counts its
// close once and marks itself used on the first bytes received.
type conn struct {
	net.Conn
	src    *source
	used   atomic.Bool
	closed atomic.Bool
}

// Read marks the connection used the first time the peer sends a byte: for
// HTTP/1 that is the first response, for TLS the handshake.
func (c *conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.used.Load() && c.used.CompareAndSwap(false, true) {
		c.src.used.Add(1)
	}
	return n, err
}

// ReadFrom hands a request body to the wrapped connection's own ReadFrom when it has one, so
// that net/http keeps sending file bodies with sendfile or splice (http.Transport looks for
// io.ReaderFrom on the connection it dialed). Otherwise it copies through Write.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

// writerOnly hides every method of a Writer but Write, so that io.Copy does not call ReadFrom
// back.
type writerOnly struct{ io.Writer }

// Close closes the connection and counts it as closed the first time only.
func (c *conn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.src.closed.Add(1)
	}
	return c.Conn.Close()
}

// wrapDial returns next with every successful connection wrapped and counted.
// If tlsDial is set (DialTLSContext), a *tls.Conn is passed through unwrapped
// and counted as untracked, because http.Transport negotiates HTTP/2 only on
// a concrete *tls.Conn.
func (s *source) wrapDial(next dialFunc, tlsDial bool) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			s.dialErrors.Add(1)
			return c, err
		}
		if c == nil {
			return nil, nil // the transport reports (nil, nil) itself
		}
		if _, ok := c.(*tls.Conn); ok && tlsDial {
			s.untracked.Add(1)
			return c, nil
		}
		s.opened.Add(1)
		return &conn{Conn: c, src: s}, nil
	}
}
