package httppool

// Stats is one reading of a [Pool]. Counters (uint64) only grow; gauges
// (int64) are the state at the time of the reading. The zero value means no
// traffic. See the package documentation for how each field is measured and
// where it is exact.
type Stats struct {
	// Requests counts RoundTrip calls.
	Requests uint64
	// Errors counts RoundTrip calls that returned an error (transport
	// errors: dial failures, timeouts, resets). HTTP error statuses are not
	// errors; see Responses5xx.
	Errors uint64
	// Responses5xx counts responses with a status code from 500 to 599.
	Responses5xx uint64
	// InFlight is the number of requests started and not finished. A request
	// finishes when RoundTrip returns an error, when RoundTrip returns a
	// response without a body, or when its body is closed or read to its end
	// (EOF or a read error). An unclosed body keeps its request in flight.
	InFlight int64

	// Opened counts connections dialed successfully by instrumented
	// transports; Closed counts those closed (each at most once).
	Opened, Closed uint64
	// Open is Opened - Closed. Active is the number of open connections
	// carrying a request or an unread body; Idle is Open - Active (never
	// negative).
	Open, Active, Idle int64

	// Reused counts requests answered on a connection that had already
	// answered an earlier one. It never decreases.
	Reused uint64
	// ReuseRatio is Reused / Requests, 0 when there are no requests.
	ReuseRatio float64
	// Waiting is the number of in-flight requests that hold no connection:
	// queued behind MaxConnsPerHost or waiting for their dial. It is 0 for
	// transports seen speaking HTTP/2 or having untracked connections,
	// where it cannot be observed.
	Waiting int64
	// DialErrors counts failed dials (they usually also appear in Errors).
	DialErrors uint64

	// Responses counts RoundTrip calls that returned a response.
	Responses uint64
	// Untracked counts connections returned as *tls.Conn by a custom
	// DialTLSContext: they are passed through unwrapped (HTTP/2 needs the
	// concrete type), so they are in none of the connection fields above.
	Untracked uint64
}

// Stats returns the current statistics. It takes no lock, does not
// allocate, and is safe to call concurrently with traffic and with
// [Pool.Instrument]. Fields are read one after the other, not as one atomic
// snapshot; the order is chosen so that Open, Active, Idle, Waiting are never
// negative and Reused never overshoots.
func (p *Pool) Stats() Stats {
	var st Stats
	var active, waiting int64
	for _, s := range *p.sources.Load() {
		// Responses before used: a connection is marked used before any
		// response read from it is counted, so the difference is a lower
		// bound of the true reuse count.
		responses := s.responses.Load()
		used := s.used.Load()
		// Closed before opened: open can only be over-read, never negative.
		closed := s.closed.Load()
		opened := s.opened.Load()
		inFlight := s.inFlight.Load()

		st.Requests += s.requests.Load()
		st.Errors += s.errors.Load()
		st.Responses5xx += s.resp5xx.Load()
		st.Responses += responses
		st.InFlight += inFlight
		st.Opened += opened
		st.Closed += closed
		st.DialErrors += s.dialErrors.Load()
		if !s.conns {
			continue
		}
		open := int64(opened - closed)
		// HTTP/1: each in-flight request that holds a connection holds its
		// own, and a request waits only when no connection of its transport
		// is idle. HTTP/2: many requests share one connection.
		active += min(open, inFlight)
		untracked := s.untracked.Load()
		st.Untracked += untracked
		// Requests on untracked connections would look like waiting ones.
		if !s.http2.Load() && untracked == 0 && inFlight > open {
			waiting += inFlight - open
		}
		// An untracked connection has been used (its handshake is done).
		st.Reused += s.reused(responses, used+untracked)
	}
	st.Open = int64(st.Opened - st.Closed)
	st.Active = min(active, st.Open)
	st.Idle = st.Open - st.Active
	st.Waiting = waiting
	if st.Requests > 0 {
		st.ReuseRatio = float64(st.Reused) / float64(st.Requests)
	}
	return st
}

// reused returns responses - used (at least 0), raised to the high-water
// mark so that the counter never decreases between readings.
func (s *source) reused(responses, used uint64) uint64 {
	var r uint64
	if responses > used {
		r = responses - used
	}
	for {
		hw := s.reusedMax.Load()
		if r <= hw {
			return hw
		}
		if s.reusedMax.CompareAndSwap(hw, r) {
			return r
		}
	}
}
