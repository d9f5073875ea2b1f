package serverinfo

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/windows/registry"
)

// testKeys builds both key layouts under HKCU, which any user may write, so
// the real registry code runs (under Wine in CI) without touching HKLM.
func testKeys(t *testing.T) Registry {
	base := fmt.Sprintf(`Software\officescan_exporter_test\%d`, os.Getpid())
	t.Cleanup(func() {
		for _, p := range []string{base + `\wow\Information`, base + `\wow`, base + `\native\Information`, base + `\native`, base} {
			registry.DeleteKey(registry.CURRENT_USER, p)
		}
	})
	return Registry{Root: registry.CURRENT_USER, RootName: "HKCU", Keys: []string{base + `\wow\Information`, base + `\native\Information`}}
}

func writeKey(t *testing.T, path string, values map[string]any) {
	t.Helper()
	k, _, err := registry.CreateKey(registry.CURRENT_USER, path, registry.SET_VALUE|registry.WOW64_64KEY)
	if err != nil {
		t.Fatalf("creating HKCU\\%s: %v", path, err)
	}
	defer k.Close()
	for name, v := range values {
		switch v := v.(type) {
		case string:
			err = k.SetStringValue(name, v)
		case uint32:
			err = k.SetDWordValue(name, v)
		}
		if err != nil {
			t.Fatalf("writing %s: %v", name, err)
		}
	}
}

func TestRegistryPrefersWOW6432NodeThenFallsBack(t *testing.T) {
	r := testKeys(t)
	if _, err := r.Read(); err == nil {
		t.Fatal("no key yet, but Read succeeded")
	}
	writeKey(t, r.Keys[1], map[string]any{ValueDir: `C:\native\PCCSRV`, ValueVersion: "11.0", ValueBuild: uint32(6054)})
	info, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if info.Dir != `C:\native\PCCSRV` || info.Version != "11.0" || info.Build != "6054" || info.Where != `HKCU\`+r.Keys[1] {
		t.Errorf("fallback key read as %+v", info)
	}
	writeKey(t, r.Keys[0], map[string]any{ValueDir: `C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV`, ValueVersion: "14.0", ValueBuild: "2170"})
	info, err = r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if info.Dir != `C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV` || info.Version != "14.0" || info.Build != "2170" {
		t.Errorf("WOW6432Node key read as %+v", info)
	}
	if d, err := ServerDir("", r); err != nil || d != info.Dir {
		t.Errorf("ServerDir = %q, %v", d, err)
	}
}

func TestRegistryMissingValueIsEmpty(t *testing.T) {
	r := testKeys(t)
	writeKey(t, r.Keys[0], map[string]any{ValueDir: `C:\PCCSRV`})
	info, err := r.Read()
	if err != nil || info.Version != "" || info.Dir != `C:\PCCSRV` {
		t.Fatalf("got %+v, %v", info, err)
	}
}
