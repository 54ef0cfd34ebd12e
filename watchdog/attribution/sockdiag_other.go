//go:build !linux

package attribution

import "errors"

var errNoDiag = errors.New("attribution: sock_diag is Linux only")

// diagDump is Linux only.
func diagDump(uint8, uint32, func(netEntry)) error { return errNoDiag }

func openDiagSocket() (int, error) { return -1, errNoDiag }

func closeDiagSocket(int) {}

func diagDumpOn(int, uint8, uint32, func(netEntry)) error { return errNoDiag }
