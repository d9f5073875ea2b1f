//go:build windows

package procs

// NewSource reports that the Windows process source is not built yet.
// TODO(issue 4): NtQuerySystemInformation(SystemProcessInformation).
func NewSource() (Source, error) { return nil, ErrNotSupported }

// Supported reports whether this OS has a process source.
const Supported = false
