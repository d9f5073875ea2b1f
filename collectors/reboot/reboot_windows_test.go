package reboot

import (
	"errors"
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// underWine: Wine's ntdll exports wine_get_version, Windows' does not.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// savedValue is a registry value as it was before a test, to put back.
type savedValue struct {
	name   string
	data   []byte
	typ    uint32
	exists bool
}

// TestRegistryStates writes queued operations into the real HKLM Session
// Manager and reads them back through the Windows registry code. It changes
// what Windows does at the next start-up, so it runs by itself only under
// Wine (CI); on a real machine it needs OSE_REGISTRY_TESTS=1 and an
// administrator, and puts every value back.
func TestRegistryStates(t *testing.T) {
	if !underWine() && os.Getenv("OSE_REGISTRY_TESTS") != "1" {
		t.Skip("writes HKLM's PendingFileRenameOperations: runs under Wine, or on a disposable Windows machine with OSE_REGISTRY_TESTS=1")
	}
	sm, err := registry.OpenKey(registry.LOCAL_MACHINE, SessionManagerKey, registry.QUERY_VALUE|registry.SET_VALUE|registry.WOW64_64KEY)
	if err != nil {
		t.Fatalf("opening HKLM\\%s for writing: %v", SessionManagerKey, err)
	}
	t.Cleanup(func() { sm.Close() }) // runs after the restores registered below
	for _, name := range RenameValues {
		saved := savedValue{name: name}
		data, typ, err := rawValue(sm, name)
		switch {
		case errors.Is(err, registry.ErrNotExist):
		case err != nil:
			t.Fatalf("saving %s: %v", name, err)
		default:
			saved.data, saved.typ, saved.exists = data, typ, true
		}
		t.Cleanup(func() { restore(t, sm, saved) })
		deleteValue(t, sm, name)
	}
	createAgentKey(t)

	reg, err := OpenRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		queue []string // nil: no PendingFileRenameOperations value at all
		want  string
	}{
		{"queued tmtdi.sys replacement", tmtdiReplacement, "officescan_agent_reboot_pending{} 1\n"},
		{"another vendor's file", concat(otherVendorDriver, otherVendorDelete), "officescan_agent_reboot_pending{} 0\n"},
		{"nothing queued", nil, "officescan_agent_reboot_pending{} 0\n"},
		{"file under the agent folder", agentFolderFile, "officescan_agent_reboot_pending{} 1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deleteValue(t, sm, RenameValues[0])
			if tc.queue != nil {
				if err := sm.SetStringsValue(RenameValues[0], tc.queue); err != nil {
					t.Fatalf("writing %s: %v", RenameValues[0], err)
				}
			}
			got, err := scrape(t, reg, discard)
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got\n%s\nwant a line %q", got, tc.want)
			}
			renameLine := `officescan_agent_windows_reboot_required{reason="pending_file_rename"} 1`
			if (tc.queue != nil) != strings.Contains(got, renameLine) {
				t.Errorf("got\n%s\npending_file_rename does not match the queue %q", got, tc.queue)
			}
			info := `officescan_agent_info{build="5512",server="osce-test.example",version="14.0"} 1`
			if !strings.Contains(got, info) {
				t.Errorf("got\n%s\nwant a line %q", got, info)
			}
		})
	}
}

// createAgentKey makes the 32-bit agent's key (as a 64-bit Windows holds
// it, below WOW6432Node) unless an agent is installed, and removes it after.
func createAgentKey(t *testing.T) {
	t.Helper()
	key := AgentKeys[0]
	if exists, err := (localMachine{}).KeyExists(key); err != nil || exists {
		t.Fatalf("HKLM\\%s: exists %v, err %v; this test needs a machine without an agent", key, exists, err)
	}
	// Remove only what this test creates, deepest first.
	var created []string
	for _, p := range []string{`SOFTWARE\WOW6432Node\TrendMicro`, `SOFTWARE\WOW6432Node\TrendMicro\PC-cillinNTCorp`, key} {
		k, existed, err := registry.CreateKey(registry.LOCAL_MACHINE, p, registry.SET_VALUE|registry.WOW64_64KEY)
		if err != nil {
			t.Fatalf("creating HKLM\\%s: %v", p, err)
		}
		if !existed {
			created = append(created, p)
		}
		if p == key {
			for name, v := range map[string]string{
				agentPathValue:    agentDir,
				agentVersionValue: "14.0",
				agentServerValue:  "osce-test.example",
			} {
				if err := k.SetStringValue(name, v); err != nil {
					t.Fatal(err)
				}
			}
			// A number, to read BuildNum whichever type the agent writes.
			if err := k.SetDWordValue(agentBuildValue, 5512); err != nil {
				t.Fatal(err)
			}
		}
		k.Close()
	}
	t.Cleanup(func() {
		for i := len(created) - 1; i >= 0; i-- {
			if err := registry.DeleteKey(registry.LOCAL_MACHINE, created[i]); err != nil {
				t.Errorf("removing HKLM\\%s: %v", created[i], err)
			}
		}
	})
}

func deleteValue(t *testing.T, k registry.Key, name string) {
	t.Helper()
	if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		t.Fatalf("deleting %s: %v", name, err)
	}
}

func restore(t *testing.T, k registry.Key, v savedValue) {
	if !v.exists {
		deleteValue(t, k, v.name)
		return
	}
	var p *byte
	if len(v.data) > 0 {
		p = &v.data[0]
	}
	name, err := windows.UTF16PtrFromString(v.name)
	if err != nil {
		t.Fatal(err)
	}
	// The registry package only writes typed values; put back the exact bytes.
	rc, _, _ := regSetValueEx.Call(uintptr(k), uintptr(unsafe.Pointer(name)), 0,
		uintptr(v.typ), uintptr(unsafe.Pointer(p)), uintptr(len(v.data)))
	if rc != 0 {
		t.Errorf("restoring %s: %v", v.name, windows.Errno(rc))
	}
}

var regSetValueEx = windows.NewLazySystemDLL("advapi32.dll").NewProc("RegSetValueExW")
