//go:build !windows

package reboot

// OpenRegistry reports that this OS has no Windows registry.
func OpenRegistry() (Registry, error) { return nil, ErrNotSupported }
