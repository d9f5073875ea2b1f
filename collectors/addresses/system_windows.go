//go:build windows

package addresses

import (
	"context"
	"strings"

	"golang.org/x/sys/windows"
)

// LookupFQDN takes the name Windows itself holds, the host name and the
// primary DNS suffix (GetComputerNameEx(ComputerNameDnsFullyQualified)),
// which needs no DNS; a machine without a suffix (not in a domain) asks
// the resolver.
func (osSystem) LookupFQDN(ctx context.Context, host string) (string, error) {
	if name, err := computerName(windows.ComputerNameDnsFullyQualified); err == nil && strings.Contains(name, ".") {
		return name, nil
	}
	return lookupDNS(ctx, host)
}

func computerName(kind uint32) (string, error) {
	n := uint32(64)
	for {
		buf := make([]uint16, n)
		err := windows.GetComputerNameEx(kind, &buf[0], &n)
		if err == nil {
			return windows.UTF16ToString(buf[:n]), nil
		}
		if err != windows.ERROR_MORE_DATA || int(n) <= len(buf) {
			return "", err
		}
	}
}
