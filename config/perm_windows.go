package config

import (
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// keepPermissions gives the new file the old one's read-only attribute and
// its access list. A file created in the folder inherits the folder's
// entries, as the old file did when it was created there, so the list is
// copied only when the old file has entries of its own or does not inherit.
func keepPermissions(tmp *os.File, path string, mode fs.FileMode, old fs.FileInfo) error {
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if old == nil {
		return nil
	}
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return err
	}
	control, _, err := sd.Control()
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		// No list at all (everyone may do anything): the new file's
		// inherited one is no looser.
		return nil
	}
	protected := control&windows.SE_DACL_PROTECTED != 0
	if !protected && !hasOwnEntries(dacl) {
		return nil
	}
	info := windows.SECURITY_INFORMATION(windows.DACL_SECURITY_INFORMATION | windows.UNPROTECTED_DACL_SECURITY_INFORMATION)
	if protected {
		info = windows.DACL_SECURITY_INFORMATION | windows.PROTECTED_DACL_SECURITY_INFORMATION
	}
	return windows.SetNamedSecurityInfo(tmp.Name(), windows.SE_FILE_OBJECT, info, nil, nil, dacl, nil)
}

func hasOwnEntries(dacl *windows.ACL) bool {
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return true
		}
		if ace.Header.AceFlags&windows.INHERITED_ACE == 0 {
			return true
		}
	}
	return false
}

// syncDir: Windows has no folder sync; the rename is durable with the file.
func syncDir(string) {}
