//go:build !windows

package winservice

// Start returns nil: only Windows has a service manager.
func Start(string) (*Service, error) { return nil, nil }
