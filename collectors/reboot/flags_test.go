package reboot

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func parseFlags(t *testing.T, args ...string) *Options {
	t.Helper()
	app := kingpin.New("test", "")
	opts := AddFlags(app)
	if _, err := app.Parse(args); err != nil {
		t.Fatalf("parsing %q: %v", args, err)
	}
	return opts
}

// The default is the unverified tm*.sys; the flag is repeatable and a
// site's own list replaces it.
func TestDriverPatternFlag(t *testing.T) {
	if got := parseFlags(t).DriverPatterns; !slices.Equal(got, []string{"tm*.sys"}) {
		t.Errorf("default driver patterns %q, want [tm*.sys]", got)
	}
	got := parseFlags(t, "--collector.reboot.driver-pattern=tm*.sys", "--collector.reboot.driver-pattern=ofcfw*.sys").DriverPatterns
	if !slices.Equal(got, []string{"tm*.sys", "ofcfw*.sys"}) {
		t.Errorf("repeated flag gave %q", got)
	}
}

// The flag reaches the collector: a queued swap of a driver named like the
// site's pattern is OfficeScan's, the default's tmtdi.sys no longer is.
func TestCollectorUsesDriverPatterns(t *testing.T) {
	opts := parseFlags(t, "--collector.reboot.driver-pattern=ofcfw*.sys")
	pending := func(queue ...string) string {
		t.Helper()
		f := &fakeRegistry{}
		f.set(SessionManagerKey, queue1, encodeMultiSZ(queue...))
		c, err := New(f, *opts, discard)
		if err != nil {
			t.Fatal(err)
		}
		ch := make(chan prometheus.Metric, 10)
		if err := c.Update(context.Background(), ch); err != nil {
			t.Fatal(err)
		}
		close(ch)
		for m := range ch {
			if strings.Contains(m.Desc().String(), `"officescan_agent_reboot_pending"`) {
				return metricValue(t, m)
			}
		}
		t.Fatal("no officescan_agent_reboot_pending sample")
		return ""
	}
	if got := pending(`\??\C:\Windows\system32\drivers\ofcfwdrv.sys.new`, `!\??\C:\Windows\system32\drivers\OFCFWDRV.SYS`); got != "1" {
		t.Errorf("queued ofcfwdrv.sys swap: officescan_agent_reboot_pending %s, want 1", got)
	}
	if got := pending(tmtdiReplacement...); got != "0" {
		t.Errorf("queued tmtdi.sys swap with the default replaced: officescan_agent_reboot_pending %s, want 0", got)
	}
}

// A malformed pattern stops the collector when it is built, naming the flag.
func TestSpecRefusesBadDriverPattern(t *testing.T) {
	_, err := New(&fakeRegistry{}, *parseFlags(t, "--collector.reboot.driver-pattern=tm[.sys"), discard)
	if err == nil || !strings.Contains(err.Error(), `--collector.reboot.driver-pattern: driver pattern "tm[.sys"`) {
		t.Fatalf("New = %v, want an error naming the flag and the pattern", err)
	}
}

func metricValue(t *testing.T, m prometheus.Metric) string {
	t.Helper()
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	return strconv.FormatFloat(pb.GetGauge().GetValue(), 'g', -1, 64)
}
