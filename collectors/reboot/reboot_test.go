package reboot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeRegistry is HKLM as a map: key -> value name -> data. A []byte is a
// REG_MULTI_SZ's raw data, a string a REG_SZ. denied fails any read of a key.
type fakeRegistry struct {
	keys   map[string]map[string]any
	denied map[string]bool
}

var errAccessDenied = errors.New("Access is denied.")

func (f *fakeRegistry) set(key, value string, data any) {
	if f.keys == nil {
		f.keys = map[string]map[string]any{}
	}
	if f.keys[key] == nil {
		f.keys[key] = map[string]any{}
	}
	if value != "" {
		f.keys[key][value] = data
	}
}

func (f *fakeRegistry) get(key, value string) (any, bool, error) {
	if f.denied[key] {
		return nil, false, errAccessDenied
	}
	v, ok := f.keys[key][value]
	return v, ok, nil
}

func (f *fakeRegistry) KeyExists(key string) (bool, error) {
	if f.denied[key] {
		return false, errAccessDenied
	}
	_, ok := f.keys[key]
	return ok, nil
}

func (f *fakeRegistry) MultiSZ(key, value string) ([]byte, bool, error) {
	v, ok, err := f.get(key, value)
	if err != nil || !ok {
		return nil, ok, err
	}
	b, isMulti := v.([]byte)
	if !isMulti {
		return nil, false, fmt.Errorf("value has type %T", v)
	}
	return b, true, nil
}

func (f *fakeRegistry) String(key, value string) (string, bool, error) {
	v, ok, err := f.get(key, value)
	if err != nil || !ok {
		return "", ok, err
	}
	s, isString := v.(string)
	if !isString {
		return "", false, fmt.Errorf("value has type %T", v)
	}
	return s, true, nil
}

type adapter struct {
	c   *Collector
	err *error
}

func (adapter) Describe(chan<- *prometheus.Desc) {}
func (a adapter) Collect(ch chan<- prometheus.Metric) {
	*a.err = a.c.Update(context.Background(), ch)
}

// scrape returns the collector's exposition and Update's error.
func scrape(t *testing.T, reg Registry, logger *slog.Logger) (string, error) {
	t.Helper()
	var err error
	r := prometheus.NewPedanticRegistry()
	r.MustRegister(adapter{newCollector(t, reg, logger), &err})
	mfs, gerr := r.Gather()
	if gerr != nil {
		t.Fatalf("gathering: %v", gerr)
	}
	var b strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			fmt.Fprintf(&b, "%s{%s} %g\n", mf.GetName(), strings.Join(labels, ","), m.GetGauge().GetValue())
		}
	}
	return b.String(), err
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

const (
	wowAgentKey    = `SOFTWARE\WOW6432Node\TrendMicro\PC-cillinNTCorp\CurrentVersion`
	nativeAgentKey = `SOFTWARE\TrendMicro\PC-cillinNTCorp\CurrentVersion`
	queue1         = "PendingFileRenameOperations"
	queue2         = "PendingFileRenameOperations2"
)

func withAgent(key string) *fakeRegistry {
	f := &fakeRegistry{}
	f.set(SessionManagerKey, "", nil)
	f.set(key, agentPathValue, agentDir)
	f.set(key, agentVersionValue, "14.0")
	f.set(key, agentBuildValue, "12345")
	f.set(key, agentServerValue, "osce01.corp.example")
	return f
}

func TestCollector(t *testing.T) {
	const info = `officescan_agent_info{build="12345",server="osce01.corp.example",version="14.0"} 1` + "\n"
	metrics := func(pending, cbs, rename, wu int, rest string) string {
		return fmt.Sprintf("officescan_agent_reboot_pending{} %d\n", pending) + rest +
			fmt.Sprintf("officescan_agent_windows_reboot_required{reason=\"component_based_servicing\"} %d\n", cbs) +
			fmt.Sprintf("officescan_agent_windows_reboot_required{reason=\"pending_file_rename\"} %d\n", rename) +
			fmt.Sprintf("officescan_agent_windows_reboot_required{reason=\"windows_update\"} %d\n", wu)
	}
	infoFirst := func(pending, cbs, rename, wu int) string {
		return info + metrics(pending, cbs, rename, wu, "")
	}
	for _, tc := range []struct {
		name  string
		setup func() *fakeRegistry
		want  string
	}{
		{"no agent, nothing queued", func() *fakeRegistry { return &fakeRegistry{} }, metrics(0, 0, 0, 0, "")},
		{"agent, nothing queued", func() *fakeRegistry { return withAgent(wowAgentKey) }, infoFirst(0, 0, 0, 0)},
		{"queued tmtdi.sys replacement", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.set(SessionManagerKey, queue1, encodeMultiSZ(concat(otherVendorDelete, tmtdiReplacement)...))
			return f
		}, infoFirst(1, 0, 1, 0)},
		{"tm driver without any agent key", func() *fakeRegistry {
			f := &fakeRegistry{}
			f.set(SessionManagerKey, queue1, encodeMultiSZ(tmtdiReplacement...))
			return f
		}, metrics(1, 0, 1, 0, "")},
		{"another vendor's driver only", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.set(SessionManagerKey, queue1, encodeMultiSZ(concat(otherVendorDriver, otherVendorDelete, lookalikeFolderFile)...))
			return f
		}, infoFirst(0, 0, 1, 0)},
		{"agent folder file in the second queue, native key", func() *fakeRegistry {
			f := withAgent(nativeAgentKey)
			f.set(SessionManagerKey, queue1, encodeMultiSZ(otherVendorDriver...))
			f.set(SessionManagerKey, queue2, encodeMultiSZ(agentFolderFile...))
			return f
		}, infoFirst(1, 0, 1, 0)},
		{"agent folder from the native key while WOW6432Node has none", func() *fakeRegistry {
			f := withAgent(nativeAgentKey)
			f.set(wowAgentKey, agentVersionValue, "14.0")
			f.set(wowAgentKey, agentBuildValue, "12345")
			f.set(wowAgentKey, agentServerValue, "osce01.corp.example")
			f.set(SessionManagerKey, queue1, encodeMultiSZ(agentFolderFile...))
			return f
		}, infoFirst(1, 0, 1, 0)},
		{"empty queue value", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.set(SessionManagerKey, queue1, []byte{0, 0})
			return f
		}, infoFirst(0, 0, 0, 0)},
		{"odd count: the unpaired tm driver still counts", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.set(SessionManagerKey, queue1, encodeMultiSZ(otherVendorDriver[0], otherVendorDriver[1], tmtdiReplacement[1]))
			return f
		}, infoFirst(1, 0, 1, 0)},
		{"Windows Update and servicing markers", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.set(CBSRebootPendingKey, "", nil)
			f.set(WURebootRequiredKey, "", nil)
			return f
		}, infoFirst(0, 1, 0, 1)},
		{"a drive root as install folder claims nothing", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.set(wowAgentKey, agentPathValue, `C:\`)
			f.set(SessionManagerKey, queue1, encodeMultiSZ(otherVendorDelete...))
			return f
		}, infoFirst(0, 0, 1, 0)},
		{"server with a port, in capitals: the label is the bare lower-case name", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.set(wowAgentKey, agentServerValue, "OSCE01.Corp.Example:8080")
			return f
		}, infoFirst(0, 0, 0, 0)},
		{"unreadable version leaves its label empty", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.set(wowAgentKey, agentBuildValue, []byte{1})
			return f
		}, `officescan_agent_info{build="",server="osce01.corp.example",version="14.0"} 1` + "\n" + metrics(0, 0, 0, 0, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scrape(t, tc.setup(), discard)
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// A queue that cannot be read must fail the collector, never read as
// "nothing pending".
func TestCollectorFails(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func() *fakeRegistry
		wantErr string
	}{
		{"access denied on Session Manager", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.denied = map[string]bool{SessionManagerKey: true}
			return f
		}, `reading HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\PendingFileRenameOperations: Access is denied.`},
		{"access denied on the agent key", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.denied = map[string]bool{wowAgentKey: true}
			return f
		}, `opening HKLM\SOFTWARE\WOW6432Node\TrendMicro\PC-cillinNTCorp\CurrentVersion: Access is denied.`},
		{"queue is not UTF-16", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.set(SessionManagerKey, queue2, []byte{'a', 0, 0})
			return f
		}, `decoding HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\PendingFileRenameOperations2: REG_MULTI_SZ data of 3 bytes`},
		{"queue of the wrong type", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.set(SessionManagerKey, queue1, "a string")
			return f
		}, `reading HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\PendingFileRenameOperations: value has type string`},
		{"Windows Update key denied", func() *fakeRegistry {
			f := withAgent(wowAgentKey)
			f.denied = map[string]bool{WURebootRequiredKey: true}
			return f
		}, `opening HKLM\` + WURebootRequiredKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := make(chan prometheus.Metric, 10)
			err := newCollector(t, tc.setup(), discard).Update(context.Background(), ch)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Update = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// The exposition must also pass the client library's own lint.
func TestCollectorLint(t *testing.T) {
	f := withAgent(wowAgentKey)
	f.set(SessionManagerKey, queue1, encodeMultiSZ(tmtdiReplacement...))
	var err error
	problems, lerr := testutil.CollectAndLint(adapter{newCollector(t, f, discard), &err})
	if lerr != nil || err != nil {
		t.Fatal(lerr, err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func newCollector(t *testing.T, reg Registry, logger *slog.Logger) *Collector {
	t.Helper()
	c, err := New(reg, Options{DriverPatterns: DefaultDriverPatterns}, logger)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
