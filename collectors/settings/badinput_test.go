package settings_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/unicode"

	"github.com/officescan-exporter/officescan_exporter/exporter"
)

// goodINI maps every setting to the value the upgrade wants.
const goodINI = "[Example_Global_Setting]\r\nExample_Firewall_Enabled=1\r\nExample_FW_Driver_Update_After_Reboot=1\r\nExample_Kernel_Restart_Notify=1\r\n"

// verdict scrapes once, as /readiness and check do, and evaluates it.
func (f *fixture) verdict() exporter.Verdict {
	f.t.Helper()
	obs, err := f.scraper.Observe(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return exporter.Evaluate(obs, exporter.EvaluateOptions{})
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
	for v := f.verdict(); v.Outcome != exporter.OutcomeSafe; v = f.verdict() {
		if time.Now().After(deadline) {
			t.Fatalf("with a good file the verdict is %s, want safe: %+v", v.Outcome, v.Checks)
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
	if v.Outcome == exporter.OutcomeSafe || v.Safe {
		t.Fatalf("verdict %s over a bad settings file", v.Outcome)
	}
	for _, c := range v.Checks {
		switch c.Collector {
		case "settings":
			if c.State != exporter.StateUnknown {
				t.Errorf("%s is %s, want unknown", c.Name, c.State)
			}
			for _, w := range append([]string{f.ini}, want...) {
				if !strings.Contains(c.Evidence, w) {
					t.Errorf("%s: evidence %q does not name %q", c.Name, c.Evidence, w)
				}
			}
		case "dbserver", "autopcc":
			if c.State != exporter.StateClear {
				t.Errorf("%s is %s (%s) with a bad settings file, want clear", c.Name, c.State, c.Evidence)
			}
		}
	}
}

func TestBadSettingsFileFailsOnlyItsCollectorAndIsNeverSafe(t *testing.T) {
	cutMidLine := []byte(goodINI[:strings.Index(goodINI, "Restart_Notify=")+len("Restart_No")])
	utf16be, err := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().Bytes([]byte(goodINI))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		data []byte
		want []string
	}{
		"empty": {nil, []string{"no such section"}},
		// A copy cut short in the middle of the last key's name.
		"truncated mid-line": {cutMidLine, []string{"Example_Kernel_Restart_Notify", "no such key"}},
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
	// A value cut short is never taken for another listed value.
	t.Run("value cut short", func(t *testing.T) {
		data := bytes.Replace([]byte(goodINI), []byte("Notify=1"), []byte("Notify="), 1)
		badSettingsFile(t, func(f *fixture) { f.write(data) }, `value ""`)
	})
}
