//go:build !linux && !windows

package procs

// NewSource reports that this OS has no process source.
func NewSource() (Source, error) { return nil, ErrNotSupported }

// Supported reports whether this OS has a process source.
const Supported = false
