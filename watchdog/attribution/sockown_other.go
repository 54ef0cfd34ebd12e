//go:build !linux

package attribution

// queryOwnSocket is Linux only.
func queryOwnSocket(int) (ownSocket, bool) { return ownSocket{}, false }
