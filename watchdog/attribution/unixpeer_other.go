//go:build !linux

package attribution

// unixPeer is Linux only.
func unixPeer(int, uint64) (string, bool) { return "", false }
