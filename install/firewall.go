package install

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
)

// RuleName is the name of the inbound rule `install --firewall` adds.
const RuleName = "officescan_exporter"

// Rule is an inbound rule that allows TCP to one local port.
type Rule struct {
	Name string `json:"name"`
	Port int    `json:"port"`
	// RemoteIP limits the rule to these remote addresses (netsh's remoteip
	// syntax: addresses, subnets, ranges, comma-separated); empty: any.
	RemoteIP string `json:"remote_ip,omitempty"`
}

func (r Rule) String() string {
	from := "any address"
	if r.RemoteIP != "" {
		from = r.RemoteIP
	}
	return fmt.Sprintf("%q (inbound TCP %d from %s)", r.Name, r.Port, from)
}

// Firewall adds, finds and deletes inbound rules by name. The Windows one
// runs netsh advfirewall; tests use a stand-in.
type Firewall interface {
	AddRule(r Rule) error
	DeleteRule(name string) error
	HasRule(name string) (bool, error)
}

// ValidRemoteIP checks a --firewall.remote-ip value: netsh's remoteip takes
// addresses, subnets (a.b.c.d/n), ranges (a-b) and keywords (LocalSubnet,
// ...), comma-separated. Anything else (a space, a quote) would change the
// netsh command line.
func ValidRemoteIP(s string) error {
	if s == "" {
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			return fmt.Errorf("remote address list %q has an empty entry", s)
		}
		for _, c := range part {
			ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.ContainsRune(".:/-", c)
			if !ok {
				return fmt.Errorf("remote address %q: %q is not allowed (addresses, subnets like 192.0.2.0/24, ranges like 192.0.2.10-192.0.2.20, comma-separated)", part, c)
			}
		}
	}
	return nil
}

// The netsh command lines, exactly as run: netsh splits its command line
// itself, and name="..." is the form its documentation gives.

// NetshAddRule is the command that adds r.
func NetshAddRule(r Rule) string {
	s := fmt.Sprintf(`netsh advfirewall firewall add rule name="%s" dir=in action=allow protocol=TCP localport=%d`, r.Name, r.Port)
	if r.RemoteIP != "" {
		s += " remoteip=" + r.RemoteIP
	}
	return s
}

// NetshDeleteRule is the command that deletes every rule called name.
func NetshDeleteRule(name string) string {
	return fmt.Sprintf(`netsh advfirewall firewall delete rule name="%s"`, name)
}

// NetshShowRule is the command that lists the rules called name; it exits 1
// when there is none.
func NetshShowRule(name string) string {
	return fmt.Sprintf(`netsh advfirewall firewall show rule name="%s"`, name)
}

// validRuleName keeps a name netsh's quoting can carry.
func validRuleName(name string) error {
	if name == "" || strings.ContainsAny(name, "\"\r\n") {
		return fmt.Errorf("firewall rule name %q: must be non-empty and hold no quote or line break", name)
	}
	return nil
}

// FileFirewall is a stand-in firewall that keeps its rules in a JSON file,
// so that an install and a later uninstall (two processes) see the same
// rules. Tests select it with the environment variable TestFirewallEnv;
// Windows' own firewall is never touched then.
type FileFirewall struct{ Path string }

// TestFirewallEnv names the environment variable that makes install and
// uninstall use a FileFirewall at that path instead of netsh (tests only,
// where netsh advfirewall does not work: Wine).
const TestFirewallEnv = "OFFICESCAN_EXPORTER_TEST_FIREWALL"

func (f FileFirewall) load() (map[string]Rule, error) {
	rules := map[string]Rule{}
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return rules, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &rules); err != nil {
		return nil, fmt.Errorf("test firewall %s: %w", f.Path, err)
	}
	return rules, nil
}

func (f FileFirewall) save(rules map[string]Rule) error {
	data, err := json.MarshalIndent(rules, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(f.Path, data, 0o644)
}

// Rules returns the rules, sorted by name.
func (f FileFirewall) Rules() ([]Rule, error) {
	rules, err := f.load()
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(rules))
	for _, r := range rules {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f FileFirewall) AddRule(r Rule) error {
	rules, err := f.load()
	if err != nil {
		return err
	}
	if _, dup := rules[r.Name]; dup {
		// netsh would add a second rule of the same name; install never
		// asks for that, so a stand-in that allowed it would hide a bug.
		return fmt.Errorf("test firewall: a rule named %q exists already", r.Name)
	}
	rules[r.Name] = r
	return f.save(rules)
}

func (f FileFirewall) DeleteRule(name string) error {
	rules, err := f.load()
	if err != nil {
		return err
	}
	if _, ok := rules[name]; !ok {
		return fmt.Errorf("test firewall: no rule named %q", name)
	}
	delete(rules, name)
	return f.save(rules)
}

func (f FileFirewall) HasRule(name string) (bool, error) {
	rules, err := f.load()
	if err != nil {
		return false, err
	}
	_, ok := rules[name]
	return ok, nil
}

// portOf returns the TCP port of a listen address (":9745",
// "127.0.0.1:9745", "[::1]:9745").
func portOf(addr string) (int, error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return 0, fmt.Errorf("listen address %q has no port", addr)
	}
	p, err := strconv.Atoi(addr[i+1:])
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("listen address %q: port %q is not a number from 1 to 65535", addr, addr[i+1:])
	}
	return p, nil
}
