package config

import (
	"strings"
	"testing"
)

// FuzzParse feeds the config loader arbitrary bytes. Seeds are in
// testdata/fuzz/FuzzParse (committed, with anything the fuzzer found).
// Whatever it accepts must be a mapping the settings collector can use;
// whatever it refuses must be refused with the file named.
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("web:\n  listen-address: [':1']\nlog.level: debug\n"))
	f.Add([]byte("settings:\n  firewall: &a {file: x, section: s, key: k, enabled_values: [1], disabled_values: [0]}\n  kernel_driver_restart_notification: *a\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("waivers:\n  dbserver: \"SQL Server\"\n  share: &r no clients\n  autopcc: *r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config file fuzz.yml") {
				t.Fatalf("error %q does not start by naming the file", err)
			}
			return
		}
		for name, s := range cfg.Settings {
			if !known(name) {
				t.Fatalf("accepted unknown setting %q", name)
			}
			if strings.TrimSpace(s.File) == "" || strings.TrimSpace(s.Key) == "" || len(s.EnabledValues) == 0 || len(s.DisabledValues) == 0 {
				t.Fatalf("accepted an incomplete mapping %+v", s)
			}
			for _, e := range s.EnabledValues {
				for _, d := range s.DisabledValues {
					if strings.EqualFold(e, d) {
						t.Fatalf("accepted %q as both enabled and disabled", e)
					}
				}
			}
			if !strings.HasPrefix(s.Source, "fuzz.yml:") {
				t.Fatalf("mapping source %q does not name the file", s.Source)
			}
		}
		seen := map[string]bool{}
		for _, w := range cfg.Waivers {
			if !waivable(w.Hazard) || seen[w.Hazard] || strings.TrimSpace(w.Reason) == "" || !strings.HasPrefix(w.Source, "fuzz.yml:") {
				t.Fatalf("accepted waiver %+v (an unknown or repeated hazard, no reason, or no source)", w)
			}
			seen[w.Hazard] = true
		}
		for _, fv := range cfg.Flags {
			if fv.Name == "" || fv.Name == "server_dir" || fv.Name == "settings" || fv.Name == "waivers" {
				t.Fatalf("reserved or empty name taken as a flag: %+v", fv)
			}
		}
	})
}
