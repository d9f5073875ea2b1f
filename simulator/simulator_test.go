package simulator

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/promslog"

	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/ini"
	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

func TestIniAndConfigAgree(t *testing.T) {
	dir := testdir.New(t)
	s := Clear()
	s["firewall_driver_update_after_reboot"] = "0"
	if err := WriteIni(dir, s); err != nil {
		t.Fatal(err)
	}
	f, err := ini.ReadFile(filepath.Join(dir, "Ofcscan.ini"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Encoding != ini.UTF16LE {
		t.Fatalf("encoding %s, want UTF-16LE as Windows tools write it", f.Encoding)
	}
	cfgPath := filepath.Join(dir, "c.yml")
	if err := WriteConfig(cfgPath, dir); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ServerDir != dir || len(cfg.Settings) != 3 {
		t.Fatalf("config = %+v", cfg)
	}
	// The one input the simulator cannot serve is waived, with its reason;
	// nothing else is.
	want := Waivers(runtime.GOOS)
	if len(cfg.Waivers) != len(want) {
		t.Fatalf("waivers %+v, want %v", cfg.Waivers, want)
	}
	for _, w := range cfg.Waivers {
		if want[w.Hazard] == "" || w.Reason != want[w.Hazard] {
			t.Errorf("waiver %s: %q, want %v", w.Hazard, w.Reason, want)
		}
	}
	for name, m := range cfg.Settings {
		k, err := f.Get(m.Section, m.Key)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v := k.Value; v != s[name] {
			t.Errorf("%s = %q, want %q", name, v, s[name])
		}
	}
}

func TestControlRefusesBadInput(t *testing.T) {
	c, err := NewController(testdir.New(t), "/nonexistent/fakeproc", promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	defer srv.Close()
	for _, form := range []url.Values{
		{"database": {"sleepy"}},
		{"login_scripts": {"many"}},
		{"login_scripts": {"-1"}},
		{"no_such_setting": {"1"}},
	} {
		resp, err := http.PostForm(srv.URL, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: status %d, want 400", form, resp.StatusCode)
		}
	}
	// A setting change needs no process and rewrites the ini.
	resp, err := http.PostForm(srv.URL, url.Values{"kernel_driver_restart_notification": {"0"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := c.State().Settings["kernel_driver_restart_notification"]; got != "0" {
		t.Fatalf("setting = %q after POST, want 0", got)
	}
}

func TestReceiverKeepsNotifications(t *testing.T) {
	rc := NewReceiver(promslog.NewNopLogger())
	srv := httptest.NewServer(rc)
	defer srv.Close()
	msg := `{"receiver":"upgrade","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"OfficeScanUpgradeWindowOpen","instance":"srv1:9745"},"annotations":{"summary":"safe"}}]}`
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Post(srv.URL, "application/json", strings.NewReader("not json"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("garbage: status %d, want 400", resp.StatusCode)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 1 || rc.got[0].AlertName != "OfficeScanUpgradeWindowOpen" || rc.got[0].Receiver != "upgrade" || rc.got[0].Labels["instance"] != "srv1:9745" {
		t.Fatalf("got %+v", rc.got)
	}
}

// The demo waives only the share hazard (the simulator serves no SMB
// share), on every OS, and says why; on Linux in the words the runbook and
// the page show.
func TestDemoWaivesOnlyTheShare(t *testing.T) {
	if got := Waivers("linux"); len(got) != 1 || got["share"] != "Linux demo: no SMB share to watch" {
		t.Errorf("linux: %v", got)
	}
	for _, goos := range []string{"windows", "darwin"} {
		got := Waivers(goos)
		if len(got) != 1 || !strings.Contains(got["share"], "share") || !strings.Contains(strings.ToLower(got["share"]), goos) {
			t.Errorf("%s: %v, want the share waived with a reason naming the OS", goos, got)
		}
	}
	for h := range Waivers(runtime.GOOS) {
		if !slices.Contains(hazard.WaivableNames(), h) {
			t.Errorf("%s is not a hazard the config file may waive", h)
		}
	}
}

// The options the end-to-end fixture uses: ANSI, the firewall settings in
// another section (hostile text, quoted in the config file), a missing key,
// raw values, only some settings mapped, the test's own waivers.
func TestWriterOptions(t *testing.T) {
	dir := testdir.New(t)
	const section = `<b>it's "odd"</b>`
	s := Settings{"firewall": "yes?", "kernel_driver_restart_notification": "0"}
	opts := []Option{ANSI(), WithSection(section), Mapped("firewall", "firewall_driver_update_after_reboot"), WithWaivers(map[string]string{"share": "test: it's not here"})}
	if err := WriteIni(dir, s, opts...); err != nil {
		t.Fatal(err)
	}
	f, err := ini.ReadFile(filepath.Join(dir, "Ofcscan.ini"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Encoding != ini.UTF8 && f.Encoding != ini.Windows1252 {
		t.Errorf("encoding %s, want ANSI", f.Encoding)
	}
	cfgPath := filepath.Join(dir, "c.yml")
	if err := WriteConfig(cfgPath, dir, opts...); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Settings) != 2 || len(cfg.Waivers) != 1 || cfg.Waivers[0].Reason != "test: it's not here" {
		t.Fatalf("config = %+v", cfg)
	}
	fw := cfg.Settings["firewall"]
	if fw.Section != section || !strings.HasPrefix(fw.Key, "Example_") {
		t.Errorf("firewall mapped to [%s] %s", fw.Section, fw.Key)
	}
	if k, err := f.Get(fw.Section, fw.Key); err != nil || k.Value != "yes?" {
		t.Errorf("firewall = %+v, %v; want the raw value", k, err)
	}
	drv := cfg.Settings["firewall_driver_update_after_reboot"]
	if _, err := f.Get(drv.Section, drv.Key); !errors.Is(err, ini.ErrNoKey) {
		t.Errorf("the missing setting: %v, want no such key", err)
	}
	if err := WriteConfig(cfgPath, dir, Mapped("no_such_setting")); err == nil {
		t.Error("a setting with no simulated key was mapped")
	}
}
