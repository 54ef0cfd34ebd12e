package httppool_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()

	pool, err := httppool.New("docker")
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: pool.Instrument(&http.Transport{})}
	defer client.CloseIdleConnections()

	for range 5 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body) // read to EOF and close: the connection goes back to the pool
		resp.Body.Close()
	}
	st := pool.Stats()
	fmt.Printf("%s: requests=%d errors=%d opened=%d idle=%d active=%d reuse=%.0f%%\n",
		pool.Name(), st.Requests, st.Errors, st.Opened, st.Idle, st.Active, 100*st.ReuseRatio)

	// A body that is never closed keeps its connection busy: the leak shows.
	resp, err := client.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	st = pool.Stats()
	fmt.Printf("unclosed body: in_flight=%d active=%d idle=%d\n", st.InFlight, st.Active, st.Idle)
	resp.Body.Close()
	// Output:
	// docker: requests=5 errors=0 opened=1 idle=1 active=0 reuse=80%
	// unclosed body: in_flight=1 active=1 idle=0
}

// A round tripper whose dials cannot be reached (here a plain function) is wrapped instead of
// instrumented: requests, errors and 5xx responses are counted, connections are not.
func ExamplePool_Wrap() {
	pool, err := httppool.New("upstream")
	if err != nil {
		panic(err)
	}
	status := []int{200, 503, 200}
	i := 0
	rt := pool.Wrap(roundTripFunc(func(req *http.Request) (*http.Response, error) {
		code := status[i%len(status)]
		i++
		return &http.Response{StatusCode: code, Body: http.NoBody, Request: req}, nil
	}))
	client := &http.Client{Transport: rt}
	for range status {
		resp, err := client.Get("http://upstream.invalid/")
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
	}
	st := pool.Stats()
	fmt.Printf("requests=%d errors=%d responses=%d 5xx=%d in_flight=%d opened=%d\n",
		st.Requests, st.Errors, st.Responses, st.Responses5xx, st.InFlight, st.Opened)
	// Output: requests=3 errors=0 responses=3 5xx=1 in_flight=0 opened=0
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
