package serverinfo

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type fake struct {
	info Info
	err  error
}

func (f fake) Read() (Info, error) { return f.info, f.err }

const where = `HKLM\SOFTWARE\WOW6432Node\TrendMicro\OfficeScan\service\Information`

type adapter struct{ c *Collector }

func (adapter) Describe(chan<- *prometheus.Desc) {}
func (a adapter) Collect(ch chan<- prometheus.Metric) {
	if err := a.c.Update(context.Background(), ch); err != nil {
		panic(err)
	}
}

func TestCollectorReportsVersionAndBuild(t *testing.T) {
	c := New(fake{info: Info{Dir: `C:\PCCSRV`, Version: "14.0", Build: "12345", Where: where}})
	want := `
# HELP officescan_server_info The OfficeScan / Apex One server's version and build as the installer recorded them in the registry (Server_Version, ServicePack_Build); always 1.
# TYPE officescan_server_info gauge
officescan_server_info{build="12345",version="14.0"} 1
`
	if err := testutil.CollectAndCompare(adapter{c}, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorFailsWithoutVersionOrRegistry(t *testing.T) {
	for name, tc := range map[string]struct {
		src  fake
		want string
	}{
		"no version":  {fake{info: Info{Build: "1", Where: where}}, "Server_Version"},
		"no build":    {fake{info: Info{Version: "1", Where: where}}, "ServicePack_Build"},
		"no registry": {fake{err: ErrNotSupported}, "not supported"},
	} {
		ch := make(chan prometheus.Metric, 1)
		err := New(tc.src).Update(context.Background(), ch)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v does not name %q", name, err, tc.want)
		}
		if len(ch) != 0 {
			t.Errorf("%s: a sample was sent with the error", name)
		}
	}
}

func TestServerDir(t *testing.T) {
	recorded := fake{info: Info{Dir: `C:\Apex One\PCCSRV`, Where: where}}
	if d, err := ServerDir(`D:\flag`, fake{err: errors.New("must not be read")}); err != nil || d != `D:\flag` {
		t.Errorf("flag given: %q, %v; the flag must win without reading the registry", d, err)
	}
	if d, err := ServerDir("", recorded); err != nil || d != `C:\Apex One\PCCSRV` {
		t.Errorf("from the registry: %q, %v", d, err)
	}
	if _, err := ServerDir("", fake{info: Info{Where: where}}); err == nil || !strings.Contains(err.Error(), "Local_Path") || !strings.Contains(err.Error(), where) {
		t.Errorf("no Local_Path: error %v does not name the value and key", err)
	}
	if _, err := ServerDir("", Local()); Supported == (err != nil && errors.Is(err, ErrNotSupported)) {
		t.Errorf("Local() on this OS: error %v, Supported=%v", err, Supported)
	}
}
