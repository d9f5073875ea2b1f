package simulator

import (
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
