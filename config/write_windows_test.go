package config

import (
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

func daclOf(t *testing.T, path string) string {
	t.Helper()
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	return sd.String()
}

// A config file whose access list was set by hand (not inherited from its
// folder) keeps that list, and so does its backup.
func TestWriteSettingKeepsTheAccessList(t *testing.T) {
	path := writeConfig(t, handWritten)
	// Protected: System full control, Everyone read, nothing inherited.
	sd, err := windows.SecurityDescriptorFromString("D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;WD)")
	if err != nil {
		t.Fatal(err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		t.Fatal(err)
	}
	want := daclOf(t, path)
	if !strings.HasPrefix(want, "D:P") {
		// Wine reports every file's list as its default one.
		t.Skipf("this system did not keep the access list set on the file (it reads %s): nothing to test here; real Windows keeps it", want)
	}
	w, err := WriteSetting(path, "kernel_driver_restart_notification", kernel, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, w.Backup} {
		if got := daclOf(t, p); got != want {
			t.Errorf("%s: access list %s, want %s", p, got, want)
		}
	}
}
