package install

import (
	"path/filepath"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

// The exact netsh command lines install runs on Windows (the Windows
// firewall passes them to netsh as its whole command line, unchanged).
func TestNetshCommandLines(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{NetshAddRule(Rule{Name: RuleName, Port: 9745}),
			`netsh advfirewall firewall add rule name="officescan_exporter" dir=in action=allow protocol=TCP localport=9745`},
		{NetshAddRule(Rule{Name: RuleName, Port: 9800, RemoteIP: "192.0.2.10,192.0.2.0/24"}),
			`netsh advfirewall firewall add rule name="officescan_exporter" dir=in action=allow protocol=TCP localport=9800 remoteip=192.0.2.10,192.0.2.0/24`},
		{NetshDeleteRule(RuleName), `netsh advfirewall firewall delete rule name="officescan_exporter"`},
		{NetshShowRule(RuleName), `netsh advfirewall firewall show rule name="officescan_exporter"`},
	} {
		if c.got != c.want {
			t.Errorf("command line\n%s\nwant\n%s", c.got, c.want)
		}
	}
}

func TestValidRemoteIP(t *testing.T) {
	for _, ok := range []string{"", "192.0.2.10", "192.0.2.0/24,198.51.100.7", "192.0.2.10-192.0.2.20", "LocalSubnet", "2001:db8::/32"} {
		if err := ValidRemoteIP(ok); err != nil {
			t.Errorf("%q rejected: %v", ok, err)
		}
	}
	for _, bad := range []string{"192.0.2.1 dir=out", `192.0.2.1"`, "192.0.2.1,,192.0.2.2", "a;b", "192.0.2.1\n"} {
		if err := ValidRemoteIP(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := validRuleName(`x" dir=out`); err == nil {
		t.Error("a rule name with a quote accepted")
	}
}

// The stand-in behaves as install expects of a firewall, and refuses what
// netsh would do silently wrong (a second rule of the same name).
func TestFileFirewall(t *testing.T) {
	f := FileFirewall{Path: filepath.Join(testdir.New(t), "fw.json")}
	if has, err := f.HasRule(RuleName); has || err != nil {
		t.Fatalf("empty firewall HasRule = %v, %v", has, err)
	}
	if err := f.AddRule(Rule{Name: RuleName, Port: 9745}); err != nil {
		t.Fatal(err)
	}
	if err := f.AddRule(Rule{Name: RuleName, Port: 9745}); err == nil {
		t.Error("second rule of the same name accepted")
	}
	if has, _ := f.HasRule(RuleName); !has {
		t.Error("rule not found after AddRule")
	}
	if err := f.DeleteRule(RuleName); err != nil {
		t.Fatal(err)
	}
	if has, _ := f.HasRule(RuleName); has {
		t.Error("rule found after DeleteRule")
	}
}

func TestPortOf(t *testing.T) {
	for addr, want := range map[string]int{":9745": 9745, "127.0.0.1:9799": 9799, "[::1]:9745": 9745, "0.0.0.0:1": 1} {
		if got, err := portOf(addr); err != nil || got != want {
			t.Errorf("portOf(%q) = %d, %v; want %d", addr, got, err, want)
		}
	}
	if got := dialAddress(":9745"); got != "127.0.0.1:9745" {
		t.Errorf("dialAddress(:9745) = %q", got)
	}
	if got := pageHost("[::1]:9745", 9745); got != "[::1]:9745" {
		t.Errorf("pageHost = %q", got)
	}
}
