//go:build !unix

package attribution

// raiseNoFile has nothing to raise here.
func raiseNoFile(uint64) (func(), error) { return func() {}, nil }
