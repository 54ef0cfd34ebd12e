//go:build !linux || 386

package attribution

// queryOwnSocket is nil here: the socket tables are read instead (see
// sockown_linux.go).
var queryOwnSocket func(fd int) (ownSocket, bool)
