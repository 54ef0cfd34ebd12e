//go:build !linux

package attribution

// fdsSupported: no /proc here; a fixture ProcRoot still works.
const fdsSupported = false
