// Package addresses exports the names and IP addresses this server is known
// by, one officescan_server_address_info{address} series each: its host
// name, its fully qualified domain name (FQDN) and every IP address of its
// network interfaces that another machine can reach it at.
//
// Agents report the server they belong to (officescan_agent_info{server},
// lower-case, without a port); the rules join waiting agents to their
// server by comparing that label with these addresses. PromQL compares
// label values exactly, so both sides are written in one form here:
// lower-case, without the root's trailing dot, IP addresses in Go's
// canonical form.
//
// The FQDN needs a name lookup, which may be slow or hang when DNS is
// down. It runs in the background, at most once per LookupEvery and for at
// most LookupTimeout, and a scrape only reads its last result: DNS never
// holds up a scrape.
package addresses

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/officescan-exporter/officescan_exporter/exporter"
)

const (
	// LookupEvery is how often the FQDN is looked up.
	LookupEvery = time.Minute
	// LookupTimeout bounds one lookup.
	LookupTimeout = 2 * time.Second
)

var addressDesc = prometheus.NewDesc(
	prometheus.BuildFQName(exporter.Namespace, "server", "address_info"),
	"Always 1, one series per name this server is known by: its host name, its FQDN (once resolved) and each IP address of its interfaces other than loopback and link-local, lower-case; agents' officescan_agent_info{server} is compared with it.",
	[]string{"address"}, nil)

// System is what the collector reads from the machine.
type System interface {
	// Hostname is the machine's host name (os.Hostname).
	Hostname() (string, error)
	// LookupFQDN returns the fully qualified domain name of hostname, this
	// machine. It may block until ctx ends.
	LookupFQDN(ctx context.Context, hostname string) (string, error)
	// InterfaceAddrs returns the addresses of the machine's network
	// interfaces (net.InterfaceAddrs).
	InterfaceAddrs() ([]net.Addr, error)
}

// Collector reports officescan_server_address_info.
type Collector struct {
	sys    System
	ctx    context.Context // ends background lookups
	logger *slog.Logger
	now    func() time.Time

	mu sync.Mutex
	// lastLookup is when the last lookup started, for lookupHost.
	lastLookup time.Time
	lookupHost string
	inFlight   bool
	// fqdn is the last FQDN found, for the host name fqdnHost.
	fqdn, fqdnHost string
	// lookups tracks the background lookup, for tests.
	lookups sync.WaitGroup
}

// New returns a collector over sys and starts the first FQDN lookup, so
// that the first scrape most likely has it. Lookups end with ctx.
func New(ctx context.Context, sys System, logger *slog.Logger) *Collector {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Collector{sys: sys, ctx: ctx, logger: logger, now: time.Now}
	if host, err := sys.Hostname(); err == nil {
		c.lookup(host)
	}
	return c
}

// Update sends one series per address. It fails when the host name or the
// interfaces cannot be read; an FQDN that cannot be resolved only leaves
// the FQDN out.
func (c *Collector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	host, err := c.sys.Hostname()
	if err != nil {
		return fmt.Errorf("reading the host name: %w", err)
	}
	addrs, err := c.sys.InterfaceAddrs()
	if err != nil {
		return fmt.Errorf("listing the network interfaces' addresses: %w", err)
	}
	fqdn := c.lookup(host)
	for _, a := range Addresses(host, fqdn, addrs) {
		ch <- prometheus.MustNewConstMetric(addressDesc, prometheus.GaugeValue, 1, a)
	}
	return nil
}

// lookup returns the last FQDN found for host ("" when none), and starts a
// new lookup in the background when none runs and the last one started
// LookupEvery ago or was for another host name.
func (c *Collector) lookup(host string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	due := c.lastLookup.IsZero() || c.lookupHost != host || now.Sub(c.lastLookup) >= LookupEvery || now.Before(c.lastLookup)
	if due && !c.inFlight {
		c.inFlight, c.lastLookup, c.lookupHost = true, now, host
		c.lookups.Add(1)
		go c.resolve(host)
	}
	if c.fqdnHost != host {
		return ""
	}
	return c.fqdn
}

// resolve looks the FQDN of host up under LookupTimeout. A failure keeps
// the last FQDN found for the same host name: a DNS outage does not take a
// name away from the server.
func (c *Collector) resolve(host string) {
	defer c.lookups.Done()
	ctx, cancel := context.WithTimeout(c.ctx, LookupTimeout)
	defer cancel()
	name, err := c.sys.LookupFQDN(ctx, host)
	if err == nil && !isFQDNOf(name, host) {
		err = fmt.Errorf("%q is not a name of host %q", name, host)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight = false
	if err != nil {
		c.logger.Debug("the host's FQDN is unknown; exporting the host name and IP addresses only", "host", host, "err", err)
		return
	}
	c.fqdn, c.fqdnHost = name, host
}

// isFQDNOf reports whether name can be the FQDN of host: its first label is
// host's. A lookup that answers "localhost" (a hosts file that lists the
// host name on 127.0.0.1 after localhost) or another machine's name (a
// CNAME) is not.
func isFQDNOf(name, host string) bool {
	first := func(s string) string {
		s, _, _ = strings.Cut(normalize(s), ".")
		return s
	}
	return name != "" && first(name) == first(host)
}

// Addresses returns the names of a server: host and fqdn, and each address
// of addrs other than loopback, link-local, multicast and unspecified ones,
// lower-case, without a trailing dot, without duplicates, sorted.
func Addresses(host, fqdn string, addrs []net.Addr) []string {
	var out []string
	for _, n := range []string{host, fqdn} {
		if n = normalize(n); n != "" {
			out = append(out, n)
		}
	}
	for _, a := range addrs {
		var ip net.IP
		switch a := a.(type) {
		case *net.IPNet:
			ip = a.IP
		case *net.IPAddr:
			ip = a.IP
		default:
			continue
		}
		addr, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		// IsGlobalUnicast is false for loopback, link-local, multicast,
		// unspecified and broadcast addresses; private ones are kept.
		if addr = addr.Unmap().WithZone(""); addr.IsGlobalUnicast() {
			out = append(out, addr.String())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func normalize(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// Spec registers the collector: on by default on every OS.
func Spec() exporter.Spec {
	return exporter.Spec{
		Name:           "addresses",
		Help:           "The host name, FQDN and IP addresses this server is known by, for joining agents to their server",
		DefaultEnabled: true,
		New: func(ctx context.Context, logger *slog.Logger) (exporter.Collector, error) {
			return New(ctx, osSystem{}, logger), nil
		},
	}
}
