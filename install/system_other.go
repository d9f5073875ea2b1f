//go:build !windows

package install

// Local returns ErrNotWindows: only Windows has a service manager to
// register with.
func Local() (*System, error) { return nil, ErrNotWindows }
