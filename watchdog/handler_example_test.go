package watchdog_test

import (
	"context"
	"log"
	"net/http"

	"github.com/leakwatch/leakwatch/watchdog"
)

// Mount the handler under /debug/: GET /debug/smoke?format=html shows the smoke run,
// GET /debug/watchdog the continuous view. POST /debug/smoke starts a run because
// AllowSmokePOST is set.
func ExampleWatchdog_Handler() {
	w, err := watchdog.Start(context.Background(), watchdog.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer w.Stop()
	mux := http.NewServeMux()
	mux.Handle("/debug/", http.StripPrefix("/debug", w.Handler(watchdog.HandlerOptions{AllowSmokePOST: true})))
	_ = &http.Server{Addr: "localhost:6060", Handler: mux} // then ListenAndServe
}
