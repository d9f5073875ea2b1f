//go:build !windows

package share

import "errors"

// Supported reports whether this OS can list a share's open files.
const Supported = false

var errNotSupported = errors.New("listing SMB open files is not supported on this OS (the share collector needs Windows)")

func newSystem() (system, error) { return nil, errNotSupported }
