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
