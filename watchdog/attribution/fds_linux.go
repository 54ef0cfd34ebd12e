//go:build linux

package attribution

// fdsSupported: /proc/self/fd and /proc/self/net exist.
const fdsSupported = true
