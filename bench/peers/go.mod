module github.com/leakwatch/leakwatch/bench/peers

go 1.25.0

require (
	github.com/leakwatch/leakwatch v0.0.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/StackExchange/wmi v1.2.1 // indirect
	github.com/go-ole/go-ole v1.2.5 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/shirou/gopsutil v3.20.11+incompatible
	go.uber.org/multierr v1.10.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace github.com/leakwatch/leakwatch => ../..
