package settings_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/unicode"

	dto "github.com/prometheus/client_model/go"

	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/readiness"
)

// goodINI maps every setting to the value the upgrade wants.
const goodINI = "[Example_Global_Setting]\r\nExample_Firewall_Enabled=1\r\nExample_FW_Driver_Update_After_Reboot=1\r\nExample_Kernel_Restart_Notify=1\r\n"

// verdict records the scraper's answer once a minute for a whole idle
// window (the times are made up; the answers are real), as the exporter
// records itself for /readiness and check, and judges it. The share
// collector does not run here, so its hazard is waived, as a site would.
func (f *fixture) verdict() readiness.Report {
	f.t.Helper()
	ctx := context.Background()
	waivers := exporter.NewWaiverCollector([]exporter.Waiver{{Hazard: "share", Reason: "no share collector in this test"}})
	observe := func(ctx context.Context) ([]*dto.MetricFamily, map[string]error, error) {
		obs, err := f.scraper.Observe(ctx, waivers)
		return obs.Families, obs.Errors, err
	}
	rec := readiness.NewRecorder(observe, time.Minute, readiness.KeepFor(0, time.Minute))
	t0 := time.Unix(1_700_000_000, 0)
	steps := int(hazard.IdleWindow / time.Minute)
	for i := 0; i <= steps; i++ {
		rec.Record(ctx, t0.Add(time.Duration(i)*time.Minute))
	}
	rep, err := readiness.Judge(rec.History(), t0.Add(time.Duration(steps)*time.Minute), rec.Options(), readiness.Target, rec.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

// badSettingsFile replaces Ofcscan.ini by something that is not a readable
// settings file and checks what the exporter makes of it: only the settings
// collector fails, no setting has a sample, the verdict is not safe, and the
// evidence of each setting names the file and what went wrong.
func badSettingsFile(t *testing.T, replace func(f *fixture), want ...string) {
	t.Helper()
	f := newFixture(t)
	f.write([]byte(goodINI))
	// Safe once DbServer.exe's first window is measured.
	deadline := time.Now().Add(5 * time.Second)
	for v := f.verdict(); v.Outcome != readiness.OutcomeSafe; v = f.verdict() {
		if time.Now().After(deadline) {
			t.Fatalf("with a good file the verdict is %s, want safe: %+v", v.Outcome, v.Rows)
		}
		time.Sleep(10 * time.Millisecond)
	}
	replace(f)
	got := f.scrape()
	if got["success/settings"] != 0 || got["success/dbserver"] != 1 || got["success/autopcc"] != 1 {
		t.Errorf("want only the settings collector failed: %v", got)
	}
	for k := range got {
		if strings.HasPrefix(k, "setting/") {
			t.Errorf("a setting that could not be read has a sample: %v", got)
		}
	}
	v := f.verdict()
	if v.Outcome == readiness.OutcomeSafe || v.Safe || v.ExitCode == 0 {
		t.Fatalf("verdict %s over a bad settings file", v.Outcome)
	}
	for _, row := range v.Rows {
		switch row.Hazard {
		case "firewall_driver", "restart_notification":
			if row.State != readiness.StateUnknown {
				t.Errorf("%s is %s, want unknown", row.Hazard, row.State)
			}
			for _, w := range append([]string{f.ini}, want...) {
				if !strings.Contains(row.Evidence, w) {
					t.Errorf("%s: evidence %q does not name %q", row.Hazard, row.Evidence, w)
				}
			}
		case "dbserver", "autopcc":
			if row.State != readiness.StateClear {
				t.Errorf("%s is %s (%s) with a bad settings file, want clear", row.Hazard, row.State, row.Evidence)
			}
		}
	}
}

func TestBadSettingsFileFailsOnlyItsCollectorAndIsNeverSafe(t *testing.T) {
	utf16be, err := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().Bytes([]byte(goodINI))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		data []byte
		want []string
	}{
		"empty": {nil, []string{"no such section"}},
		// UTF-16BE text behind a UTF-16LE byte-order mark: every character
		// decodes to another one, so no section is found.
		"wrong encoding": {append([]byte{0xFF, 0xFE}, utf16be...), []string{"no such section"}},
	} {
		t.Run(name, func(t *testing.T) {
			badSettingsFile(t, func(f *fixture) { f.write(tc.data) }, tc.want...)
		})
	}
	t.Run("missing", func(t *testing.T) {
		badSettingsFile(t, func(f *fixture) {
			if err := os.Remove(f.ini); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("directory instead of a file", func(t *testing.T) {
		badSettingsFile(t, func(f *fixture) {
			if err := os.Remove(f.ini); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(f.ini, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(f.ini) })
		}, "not a regular file")
	})
}

// TestBadSettingValueLeavesOnlyThatSettingUnknown: a copy of Ofcscan.ini cut
// short in the last key, or a value cut short, leaves that one setting
// unknown (never taken for a listed value): the collector still reports the
// others, the verdict is not safe, and the log names the setting, the file
// and what is wrong.
func TestBadSettingValueLeavesOnlyThatSettingUnknown(t *testing.T) {
	cutMidLine := []byte(goodINI[:strings.Index(goodINI, "Restart_Notify=")+len("Restart_No")])
	valueCut := bytes.Replace([]byte(goodINI), []byte("Notify=1"), []byte("Notify="), 1)
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"truncated mid-line": {cutMidLine, "no such key"},
		"value cut short":    {valueCut, `value \"\"`},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.write(tc.data)
			got := f.scrape()
			if got["success/settings"] != 1 || got["setting/firewall"] != 1 || got["setting/firewall_driver_update_after_reboot"] != 1 {
				t.Errorf("the readable settings are not all reported: %v", got)
			}
			if _, ok := got["setting/kernel_driver_restart_notification"]; ok {
				t.Errorf("the unreadable setting has a sample: %v", got)
			}
			v := f.verdict()
			if v.Safe || v.ExitCode == 0 {
				t.Fatalf("verdict %s with an unknown setting", v.Outcome)
			}
			for _, row := range v.Rows {
				want := map[string]string{"firewall_driver": readiness.StateClear, "restart_notification": readiness.StateUnknown}[row.Hazard]
				if want != "" && row.State != want {
					t.Errorf("%s is %s (%s), want %s", row.Hazard, row.State, row.Evidence, want)
				}
			}
			log := f.log.String()
			for _, w := range []string{"setting kernel_driver_restart_notification", "Example_Kernel_Restart_Notify", tc.want} {
				if !strings.Contains(log, w) {
					t.Errorf("the log does not name %q:\n%.2000s", w, log)
				}
			}
		})
	}
}
