package addresses

import (
	"context"
	"net"
	"os"
)

// osSystem reads this machine.
type osSystem struct{}

func (osSystem) Hostname() (string, error)           { return os.Hostname() }
func (osSystem) InterfaceAddrs() ([]net.Addr, error) { return net.InterfaceAddrs() }

// lookupDNS asks the resolver for the canonical name of host, as
// `hostname -f` does: the hosts file first (the first name on host's line),
// then DNS with the resolver's search domains.
func lookupDNS(ctx context.Context, host string) (string, error) {
	return net.DefaultResolver.LookupCNAME(ctx, host)
}
