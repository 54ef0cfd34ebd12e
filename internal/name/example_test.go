package name_test

import (
	"fmt"

	"github.com/leakwatch/leakwatch/internal/name"
)

// One rule for pools, gauges and series: a pool named "docker" is fine, and so is the series
// name built from it; "docker-api" is not.
func ExampleValid() {
	for _, s := range []string{"docker", "http_docker_idle", "docker_api", "docker-api", "Docker", "2p"} {
		fmt.Println(s, name.Valid(s))
	}
	// Output:
	// docker true
	// http_docker_idle true
	// docker_api true
	// docker-api false
	// Docker false
	// 2p false
}
