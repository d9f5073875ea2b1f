//go:build !windows

package addresses

import "context"

// LookupFQDN asks the resolver.
func (osSystem) LookupFQDN(ctx context.Context, host string) (string, error) {
	return lookupDNS(ctx, host)
}
