// Package httppool gives an http.Transport the connection-pool statistics
// that Go does not expose: requests, errors, open, active and idle
// connections, connection reuse, requests waiting for a connection.
//
// It exists for the checks of a connection-pool smoke test: "idle
// connections > 0" (pooling works), "reuse rate > 80%", "HTTP errors > 0 is a
// red flag", and the leak itself: response bodies that are never closed keep
// their connections busy, so open and active connections grow.
//
// # Quick start
//
//	pool, err := httppool.New("docker")
//	if err != nil { ... }
//	t := &http.Transport{DialContext: dialDockerSocket, MaxIdleConnsPerHost: 8}
//	client := &http.Client{Transport: pool.Instrument(t)}
//	...
//	st := pool.Stats() // any time, from any goroutine
//
// A [Pool] is a named set of counters. [Pool.Instrument] wraps the dial
// functions of an *http.Transport and returns a round tripper to use in its
// place. Several transports may report to one Pool, and a Pool may be created
// before or after anything reads it: it holds no goroutine and registers
// nothing. [Pool.Stats] reads the counters without locks or allocation, so a
// sampler may call it on every tick.
//
// # What is counted
//
// Each instrumented transport (or wrapped round tripper) is a source with its
// own atomic counters; [Pool.Stats] sums them.
//
//   - Requests, Errors, Responses, Responses5xx: counted in RoundTrip. An
//     error is a transport error (RoundTrip returned one: refused dial,
//     timeout, reset); a 5xx response is not an error and is counted apart.
//   - InFlight: from the start of RoundTrip until the request is over:
//     RoundTrip returned an error, or a response without a body (http.NoBody:
//     HEAD, 204, 304) or a 101 (the body is the hijacked connection), or the
//     response body was closed or read to its end (EOF or a read error). The
//     body is wrapped for this: one allocation per response.
//   - Opened, Closed, Open: every connection returned by the transport's
//     DialContext (or DialTLSContext) is wrapped; Close is counted once, even
//     if called again. Open = Opened - Closed. The wrapper passes ReadFrom
//     through to the connection, so file request bodies still go out with
//     sendfile or splice.
//   - DialErrors: dials that failed. They show up in Errors as well, since
//     the request fails.
//
// # Reuse
//
// Reused counts requests answered on a connection that had already answered
// one. The exact per-request answer (httptrace's GotConnInfo.Reused) costs a
// ClientTrace context and a request copy per request, three to four
// allocations, over the budget of one. Instead, a wrapped connection marks
// itself "used" the first time it receives a byte from the peer (the first
// response in HTTP/1, the handshake under TLS), and per source
//
//	Reused = Responses - used connections
//
// Each used connection contributes the number of responses it carried minus
// one, which is its reuse count. This is exact for HTTP/1, for HTTP/2 (one
// connection, many streams), over TCP, TLS or unix sockets, and it ignores
// connections dialed but never used (net/http sometimes dials for a request
// that then takes a connection freed meanwhile). Stats reads Responses before
// the used count, so a reading can lag but never overshoots; a high-water
// mark keeps the counter from going down. It undercounts by one for every
// connection whose first request failed after the server had sent some bytes
// (a TLS connection whose first request timed out, a response cut in its
// headers). ReuseRatio is Reused / Requests, so errors lower it too.
//
// # Active, idle and waiting connections
//
// A connection is active while it carries a request or an unread body. The
// round tripper cannot tell which connection a request got (that again would
// need httptrace), but within one transport it does not need to:
//
//   - HTTP/1: every in-flight request that holds a connection holds its own,
//     and a request holds none only while no connection of its transport is
//     idle (net/http hands an idle connection to a waiting request at once).
//     So active = min(open, in flight), waiting = in flight - open when
//     positive.
//   - HTTP/2: many requests share one connection; min(open, in flight)
//     still counts each connection once, never each request.
//
// Stats applies this per source and sums: Active = Σ min(open, in flight),
// Idle = Open - Active (never negative). Waiting counts requests queued
// behind MaxConnsPerHost and requests waiting for their own dial; it is 0 for
// a transport once a response has come over HTTP/2, where requests in excess
// of connections are multiplexed, not waiting.
//
// Limits: with several hosts behind one transport the min() is taken over the
// transport, not per host, so while a request to host A dials, an idle
// connection to host B is reported as active (for the length of that dial).
// A connection just dialed for a request that then took another one is
// counted as active until the request ends. Instrument one transport per
// upstream (the Docker client has one) for exact numbers.
//
// # Unix sockets, TLS and HTTP/2
//
// Instrument wraps t.DialContext (nil means a zero net.Dialer, as net/http
// does; a deprecated t.Dial is honoured), so unix-socket dialers are counted
// like TCP ones. TLS done by the transport sits on top of the wrapped
// connection, so HTTPS and HTTP/2 (ForceAttemptHTTP2, or TLSNextProto) work
// unchanged. A custom DialTLSContext is wrapped too, except that a *tls.Conn
// it returns is passed through untouched, because net/http negotiates HTTP/2
// only on that concrete type; such connections are counted in
// Stats.Untracked and in no connection field (and Waiting stays 0 for that
// transport, since requests on them would look like waiting ones). Prefer DialContext plus
// TLSClientConfig, which is what the Docker client does.
//
// Instrument changes t: call it before t is first used. Calling it twice with
// the same t returns the same round tripper. The round tripper forwards
// CloseIdleConnections, so http.Client.CloseIdleConnections still works.
//
// # Other round trippers
//
// [Pool.Wrap] wraps any http.RoundTripper whose dials cannot be reached. It
// is less exact: requests, errors, 5xx and in-flight requests are counted,
// connections are not (Opened, Open, Active, Idle, Reused, Waiting stay 0 for
// it).
//
// # Overhead
//
// An instrumented round trip costs one allocation more than the bare
// transport (the 32-byte body wrapper; connection wrappers are allocated
// per dial) and a fraction of a microsecond of CPU, well under 5% of a
// loopback round trip; [Pool.Stats] costs well under a microsecond and
// allocates nothing. bench/README.md ("What does the HTTP pool probe
// cost?") has the current figures and the commands (BenchmarkRoundTrip,
// BenchmarkLayer, BenchmarkStats).
//
// # Testing
//
// The tests run real loopback servers (httptest over TCP, HTTP/2 over TLS,
// an http.Server on a unix socket) and compare the statistics with what the
// server saw: connections accepted and requests per connection. They cover
// keep-alive, keep-alives disabled, bodies never closed, the server closing
// connections, dial errors, client timeouts, HTTP/2, concurrency (run them
// with -race) and MaxConnsPerHost starvation.
package httppool
