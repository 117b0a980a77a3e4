//go:build !linux

package cli

import (
	"errors"
	"os"
)

// openAnon: only Linux makes a file without a name (O_TMPFILE); elsewhere
// the output is written under a temporary name.
func openAnon(string, string) (*os.File, error) { return nil, errors.ErrUnsupported }

func linkAnon(*os.File, string) error { return errors.ErrUnsupported }

func umaskAnon(*os.File, string) error { return errors.ErrUnsupported }
