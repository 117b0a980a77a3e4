package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Identity is the database file's, as the file system knows it, "" while
// it does not exist.
func (a *Adapter) Identity(ctx context.Context) (string, error) {
	st, err := os.Stat(a.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite %s: %w", a.path, err)
	}
	return adapterName + ":" + fileID(a.path, st), nil
}

// absolute is path made absolute, its links resolved as far as they
// exist.
func absolute(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	return path
}
