//go:build !linux

package attribution

import "errors"

// diagDump is Linux only.
func diagDump(uint8, uint32, func(netEntry)) error {
	return errors.New("attribution: sock_diag is Linux only")
}
