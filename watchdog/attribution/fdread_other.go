//go:build !linux

package attribution

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// readFDLinks lists dir (a /proc/<pid>/fd directory, here only a fixture
// tree) and reads each link. Descriptors closed meanwhile are skipped.
func readFDLinks(dir string, _ bool, _ *os.File) ([]fdLinkEntry, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("attribution: fd table: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("attribution: fd table: %w", err)
	}
	links := make([]fdLinkEntry, 0, len(names))
	for _, name := range names {
		n, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		t, err := os.Readlink(filepath.Join(dir, name))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			t = "unreadable"
		}
		links = append(links, fdLinkEntry{num: n, target: t})
	}
	return links, nil
}
