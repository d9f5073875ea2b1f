package addresses

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// fakeSystem is a machine the test describes. lookup answers LookupFQDN;
// nil hangs until the lookup's context ends.
type fakeSystem struct {
	host    string
	hostErr error
	addrs   []net.Addr
	addrErr error
	lookup  func(host string) (string, error)

	mu        sync.Mutex
	lookups   []string
	deadlines []time.Duration // time left on each lookup's context
}

func (f *fakeSystem) Hostname() (string, error)           { return f.host, f.hostErr }
func (f *fakeSystem) InterfaceAddrs() ([]net.Addr, error) { return f.addrs, f.addrErr }

func (f *fakeSystem) LookupFQDN(ctx context.Context, host string) (string, error) {
	f.mu.Lock()
	f.lookups = append(f.lookups, host)
	if d, ok := ctx.Deadline(); ok {
		f.deadlines = append(f.deadlines, time.Until(d))
	} else {
		f.deadlines = append(f.deadlines, -1)
	}
	f.mu.Unlock()
	if f.lookup == nil {
		<-ctx.Done()
		return "", ctx.Err()
	}
	return f.lookup(host)
}

func (f *fakeSystem) lookupCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.lookups)
}

func ipNet(s string) net.Addr {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

func ipAddr(s string) net.Addr { return &net.IPAddr{IP: net.ParseIP(s)} }

// machine has every kind of address an interface list holds.
var machine = []net.Addr{
	ipNet("127.0.0.1/8"),
	ipNet("::1/128"),
	ipNet("10.0.0.5/24"),
	ipNet("10.0.0.5/24"),    // the same address on a second interface
	ipNet("169.254.7.1/16"), // IPv4 link-local (APIPA)
	ipNet("fe80::1234:5678:9abc:def0/64"),
	ipNet("2001:DB8::A/64"),
	ipNet("fd00::5/64"), // unique local: reachable within the site
	ipAddr("192.0.2.7"),
	ipAddr("::ffff:192.0.2.8"), // IPv4 written as IPv6
	ipAddr("224.0.0.251"),      // multicast
	ipAddr("0.0.0.0"),
	&net.UnixAddr{Name: "/run/x", Net: "unix"}, // not an IP address at all
}

func TestAddresses(t *testing.T) {
	for _, tc := range []struct {
		name, host, fqdn string
		addrs            []net.Addr
		want             []string
	}{
		{"every kind of interface address", "OSCE01", "OSCE01.Corp.Example.", machine,
			[]string{"10.0.0.5", "192.0.2.7", "192.0.2.8", "2001:db8::a", "fd00::5", "osce01", "osce01.corp.example"}},
		{"no FQDN", "Osce01", "", []net.Addr{ipNet("10.0.0.5/24")}, []string{"10.0.0.5", "osce01"}},
		{"FQDN as host name", "osce01.corp.example", "OSCE01.CORP.EXAMPLE", nil, []string{"osce01.corp.example"}},
		{"loopback only", "osce01", "", []net.Addr{ipNet("127.0.0.1/8"), ipNet("::1/128")}, []string{"osce01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Addresses(tc.host, tc.fqdn, tc.addrs); !slices.Equal(got, tc.want) {
				t.Errorf("Addresses = %q, want %q", got, tc.want)
			}
		})
	}
}

// scrape runs one Update and returns the addresses it sent, or its error.
func scrape(t *testing.T, c *Collector) ([]string, error) {
	t.Helper()
	ch := make(chan prometheus.Metric, 100)
	err := c.Update(context.Background(), ch)
	close(ch)
	var out []string
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		if m.Desc() != addressDesc || pb.GetGauge().GetValue() != 1 || len(pb.GetLabel()) != 1 {
			t.Fatalf("unexpected metric %v %v", m.Desc(), &pb)
		}
		out = append(out, pb.GetLabel()[0].GetValue())
	}
	return out, err
}

func TestCollector(t *testing.T) {
	both := []string{"10.0.0.5", "192.0.2.7", "192.0.2.8", "2001:db8::a", "fd00::5", "osce01", "osce01.corp.example"}
	noFQDN := []string{"10.0.0.5", "192.0.2.7", "192.0.2.8", "2001:db8::a", "fd00::5", "osce01"}
	for _, tc := range []struct {
		name    string
		sys     *fakeSystem
		want    []string
		wantErr string
	}{
		{"FQDN resolved", &fakeSystem{host: "OSCE01", addrs: machine,
			lookup: func(string) (string, error) { return "osce01.Corp.Example.", nil }}, both, ""},
		{"lookup fails", &fakeSystem{host: "OSCE01", addrs: machine,
			lookup: func(string) (string, error) { return "", errors.New("no such host") }}, noFQDN, ""},
		{"lookup answers localhost", &fakeSystem{host: "OSCE01", addrs: machine,
			lookup: func(string) (string, error) { return "localhost", nil }}, noFQDN, ""},
		{"lookup answers another machine", &fakeSystem{host: "OSCE01", addrs: machine,
			lookup: func(string) (string, error) { return "lb.corp.example", nil }}, noFQDN, ""},
		{"host name unreadable", &fakeSystem{hostErr: errors.New("boom"), addrs: machine,
			lookup: func(string) (string, error) { return "x", nil }}, nil, "reading the host name: boom"},
		{"interfaces unreadable", &fakeSystem{host: "osce01", addrErr: errors.New("netlink"),
			lookup: func(string) (string, error) { return "osce01.corp.example", nil }}, nil, "listing the network interfaces' addresses: netlink"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(context.Background(), tc.sys, nil)
			c.lookups.Wait() // the lookup New started
			got, err := scrape(t, c)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || len(got) != 0 {
					t.Fatalf("Update = %q, %v; want no series and error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("Update = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// A lookup that hangs never holds up a scrape; it is given LookupTimeout,
// and the series without the FQDN are sent at once.
func TestHangingLookupDoesNotBlockAScrape(t *testing.T) {
	sys := &fakeSystem{host: "osce01", addrs: []net.Addr{ipNet("10.0.0.5/24")}} // lookup nil: hangs
	c := New(context.Background(), sys, nil)
	start := time.Now()
	for range 3 {
		got, err := scrape(t, c)
		if err != nil || !slices.Equal(got, []string{"10.0.0.5", "osce01"}) {
			t.Fatalf("Update = %q, %v; want the host name and address", got, err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("three scrapes took %s while the lookup hangs", d)
	}
	for deadline := time.Now().Add(time.Second); sys.lookupCount() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // the lookup's goroutine starts
	}
	// Even when the next lookup is due, none starts beside a running one.
	c.mu.Lock()
	c.now = func() time.Time { return time.Now().Add(2 * LookupEvery) }
	c.mu.Unlock()
	if _, err := scrape(t, c); err != nil {
		t.Fatal(err)
	}
	if n := sys.lookupCount(); n != 1 {
		t.Fatalf("%d lookups started, want 1 (one at a time)", n)
	}
	c.lookups.Wait() // ends at the timeout
	if d := time.Since(start); d < LookupTimeout-100*time.Millisecond || d > LookupTimeout+time.Second {
		t.Fatalf("the hanging lookup ended after %s, want about %s", d, LookupTimeout)
	}
	sys.mu.Lock()
	defer sys.mu.Unlock()
	if left := sys.deadlines[0]; left <= 0 || left > LookupTimeout {
		t.Fatalf("the lookup's context had %s left, want a deadline within %s", left, LookupTimeout)
	}
}

// The FQDN is looked up at most once per LookupEvery, and again at once
// when the host name changes; a failed lookup keeps the last name found for
// the same host.
func TestLookupAtMostOncePerMinute(t *testing.T) {
	answers := map[string]string{"osce01": "osce01.corp.example", "osce02": "osce02.corp.example"}
	var fail bool
	var mu sync.Mutex
	sys := &fakeSystem{host: "osce01", addrs: nil, lookup: func(h string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return "", errors.New("DNS down")
		}
		return answers[h], nil
	}}
	clock := time.Unix(1_700_000_000, 0)
	c := New(context.Background(), sys, nil)
	c.lookups.Wait()
	c.mu.Lock()
	c.now = func() time.Time { return clock }
	c.lastLookup = clock // as if New had looked up at clock
	c.mu.Unlock()

	at := func(d time.Duration) []string {
		t.Helper()
		clock = time.Unix(1_700_000_000, 0).Add(d)
		got, err := scrape(t, c)
		if err != nil {
			t.Fatal(err)
		}
		c.lookups.Wait()
		return got
	}
	for _, tc := range []struct {
		at      time.Duration
		host    string
		fail    bool
		lookups int
		want    []string
	}{
		{0, "osce01", false, 1, []string{"osce01", "osce01.corp.example"}},
		{30 * time.Second, "osce01", false, 1, []string{"osce01", "osce01.corp.example"}},
		{59 * time.Second, "osce01", true, 1, []string{"osce01", "osce01.corp.example"}},
		// A minute on: looked up again; the failure keeps the name.
		{60 * time.Second, "osce01", true, 2, []string{"osce01", "osce01.corp.example"}},
		{90 * time.Second, "osce01", false, 2, []string{"osce01", "osce01.corp.example"}},
		// Renamed: the old FQDN goes at once, the new one is looked up at once.
		{100 * time.Second, "osce02", false, 3, []string{"osce02"}},
		{101 * time.Second, "osce02", false, 3, []string{"osce02", "osce02.corp.example"}},
	} {
		mu.Lock()
		fail = tc.fail
		mu.Unlock()
		sys.host = tc.host
		got := at(tc.at)
		if !slices.Equal(got, tc.want) || sys.lookupCount() != tc.lookups {
			t.Fatalf("at %s: %q after %d lookups, want %q after %d", tc.at, got, sys.lookupCount(), tc.want, tc.lookups)
		}
	}
	sys.mu.Lock()
	defer sys.mu.Unlock()
	if strings.Join(sys.lookups, ",") != "osce01,osce01,osce02" {
		t.Fatalf("looked up %q", sys.lookups)
	}
}

// The real machine: the collector works here, with the host name among
// the addresses and no loopback address.
func TestRealSystem(t *testing.T) {
	c := New(context.Background(), osSystem{}, nil)
	got, err := scrape(t, c)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := osSystem{}.Hostname()
	if !slices.Contains(got, normalize(host)) {
		t.Fatalf("addresses %q lack the host name %q", got, host)
	}
	for _, a := range got {
		if a == "127.0.0.1" || a == "::1" || a != strings.ToLower(a) {
			t.Fatalf("address %q among %q", a, got)
		}
	}
	c.lookups.Wait()
}
