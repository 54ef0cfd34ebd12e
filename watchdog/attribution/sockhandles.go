package attribution

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// NetHandles are the descriptors a snapshot reads the socket tables with,
// opened ahead of need: a sock_diag socket and the namespace's sockstat
// file. With [Options.Net] set, a snapshot taken when the process has no
// descriptor left (EMFILE) still lists sockets and counts the namespace's
// TIME_WAIT sockets, as [Options.FDDir] lets it list the descriptors. Open
// them with [OpenNetHandles] and release them with [NetHandles.Close]. Safe
// for concurrent use: snapshots sharing them take turns.
type NetHandles struct {
	mu       sync.Mutex
	diag     int // the sock_diag socket; -1 when none (failed, closed, or not Linux)
	sockstat *os.File
}

// OpenNetHandles opens the sock_diag socket and procRoot/self/net/sockstat
// ("" means "/proc"). What cannot be opened is left out, and the error says
// what; the handles returned are usable in any case.
func OpenNetHandles(procRoot string) (*NetHandles, error) {
	if procRoot == "" {
		procRoot = "/proc"
	}
	h := &NetHandles{diag: -1}
	var errs []error
	fd, err := openDiagSocket()
	if err != nil {
		errs = append(errs, err)
	} else {
		h.diag = fd
	}
	if f, err := os.Open(filepath.Join(procRoot, "self", "net", "sockstat")); err != nil {
		errs = append(errs, fmt.Errorf("attribution: %w", err))
	} else {
		h.sockstat = f
	}
	return h, errors.Join(errs...)
}

// Close releases the handles. Snapshots may still use a closed NetHandles:
// they then open what they need, as without one.
func (h *NetHandles) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.diag >= 0 {
		closeDiagSocket(h.diag)
		h.diag = -1
	}
	var err error
	if h.sockstat != nil {
		err = h.sockstat.Close()
		h.sockstat = nil
	}
	return err
}

// dump lists sockets as diagDump does, on the held socket when there is
// one. A dump that fails on it may have left messages unread: the socket
// is closed and the dump tried once more on a socket of its own.
// Callers hold h.mu.
func (h *NetHandles) dump(proto uint8, states uint32, fn func(netEntry)) error {
	if h == nil || h.diag < 0 {
		return diagDump(proto, states, fn)
	}
	seen := false
	err := diagDumpOn(h.diag, proto, states, func(e netEntry) { seen = true; fn(e) })
	if err != nil {
		closeDiagSocket(h.diag)
		h.diag = -1
		if !seen {
			return diagDump(proto, states, fn)
		}
	}
	return err
}

// readSockstat returns the text of the sockstat file: through the held
// file when there is one (read again from its start), else opened at path.
// Callers hold h.mu.
func (h *NetHandles) readSockstat(path string) ([]byte, error) {
	if h == nil || h.sockstat == nil {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("attribution: %w", err)
		}
		return b, nil
	}
	var buf bytes.Buffer
	b := make([]byte, 4096)
	for off := int64(0); ; {
		n, err := h.sockstat.ReadAt(b, off)
		buf.Write(b[:n])
		off += int64(n)
		if errors.Is(err, io.EOF) || err == nil && n == 0 {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("attribution: sockstat: %w", err)
		}
	}
	return buf.Bytes(), nil
}
