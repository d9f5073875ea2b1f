//go:build !windows

package serverinfo

// Supported reports whether this OS records the installation in a registry.
const Supported = false

// Local returns the local machine's source; here every Read fails with ErrNotSupported.
func Local() Source { return unsupported{} }

type unsupported struct{}

func (unsupported) Read() (Info, error) { return Info{}, ErrNotSupported }
