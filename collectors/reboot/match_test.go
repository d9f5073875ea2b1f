package reboot

import (
	"strings"
	"testing"
)

func TestMatcherOurs(t *testing.T) {
	m := defaultMatcher(t)
	if err := m.AddInstallDir(agentDir); err != nil {
		t.Fatal(err)
	}
	op := func(strs []string) Operation {
		t.Helper()
		ops, err := ParseOperations(strs)
		if err != nil || len(ops) != 1 {
			t.Fatalf("recorded value %q: %v, %d operations", strs, err, len(ops))
		}
		return ops[0]
	}
	for _, tc := range []struct {
		name string
		op   Operation
		want bool
	}{
		{"queued tmtdi.sys replacement", op(tmtdiReplacement), true},
		{"tm driver delete, upper case", op(tmDriverDelete), true},
		{"another vendor's driver", op(otherVendorDriver), false},
		{"another vendor's delete", op(otherVendorDelete), false},
		{"file under the agent folder", op(agentFolderFile), true},
		{"look-alike folder is not the agent's", op(lookalikeFolderFile), false},
		{"the agent folder itself", Operation{Source: `C:\Program Files (x86)\Trend Micro\OfficeScan Client`, Delete: true}, true},
		{"agent folder in other case and separators", Operation{Source: `c:/PROGRAM FILES (X86)//trend micro/officescan client/Pccnt/x.dll`, Delete: true}, true},
		{"dot-dot out of the agent folder", Operation{Source: `C:\Program Files (x86)\Trend Micro\OfficeScan Client\..\..\..\Windows\notepad.exe`, Delete: true}, false},
		{"dot-dot into the agent folder", Operation{Source: `C:\Program Files (x86)\Other\..\Trend Micro\OfficeScan Client\x.dll`, Delete: true}, true},
		{"agent folder named by \\\\?\\", Operation{Source: `\\?\C:\Program Files (x86)\Trend Micro\OfficeScan Client\x.dll`, Delete: true}, true},
		{"agent folder on another drive", Operation{Source: `D:\Program Files (x86)\Trend Micro\OfficeScan Client\x.dll`, Delete: true}, false},
		{"only the target is ours", Operation{Source: `C:\Windows\Temp\~upd.tmp`, Target: `C:\Windows\System32\drivers\TmWfp.sys`, ReplaceExisting: true}, true},
		{"tm*.sys outside a drivers folder", Operation{Source: `C:\Users\bob\Downloads\tmp.sys`, Delete: true}, false},
		{"tm*.sys in SysWOW64 drivers", Operation{Source: `C:\Windows\SysWOW64\DRIVERS\tmcomm.sys`, Delete: true}, true},
		{"tm prefix but not .sys", Operation{Source: `C:\Windows\system32\drivers\tmtdi.sys.new`, Delete: true}, false},
		{"sys but not tm", Operation{Source: `C:\Windows\system32\drivers\atmfd.sys`, Delete: true}, false},
		{"unpaired tm driver source", Operation{Source: `C:\Windows\system32\drivers\tmtdi.sys`, Unpaired: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.Ours(tc.op); got != tc.want {
				t.Errorf("Ours(%+v) = %v, want %v", tc.op, got, tc.want)
			}
		})
	}
}

func TestMatcherUNCInstallDir(t *testing.T) {
	m := defaultMatcher(t)
	if err := m.AddInstallDir(`\\fs01\apps\OfficeScan Client`); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		`\??\UNC\fs01\apps\OfficeScan Client\a.dll`: true,
		`\\FS01\Apps\OfficeScan Client\a.dll`:       true,
		`\\fs02\apps\OfficeScan Client\a.dll`:       false,
		`C:\fs01\apps\OfficeScan Client\a.dll`:      false,
	} {
		if got := m.Ours(Operation{Source: path, Delete: true}); got != want {
			t.Errorf("%s: got %v, want %v", path, got, want)
		}
	}
}

// An install folder that names a whole drive would claim every file on it.
func TestMatcherRefusesUselessInstallDirs(t *testing.T) {
	for _, dir := range []string{``, `C:\`, `C:`, `\??\C:\`, `relative\folder`, `\no\drive`, `\\server`, `C:\..`} {
		m := defaultMatcher(t)
		if err := m.AddInstallDir(dir); err == nil {
			t.Errorf("AddInstallDir(%q) accepted", dir)
		}
		if m.Ours(Operation{Source: `C:\Windows\notepad.exe`, Delete: true}) {
			t.Errorf("after AddInstallDir(%q), notepad.exe counts as OfficeScan's", dir)
		}
	}
}

func defaultMatcher(t *testing.T) *Matcher {
	t.Helper()
	m, err := NewMatcher(DefaultDriverPatterns)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A site that knows its agent's driver names replaces the unverified
// default: only its patterns count then, still only in a drivers folder.
func TestMatcherDriverPatterns(t *testing.T) {
	m, err := NewMatcher([]string{"OfcFw*.SYS", "x?drv.sys"})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		`C:\Windows\System32\drivers\ofcfwdrv.sys`: true,
		`C:\Windows\System32\DRIVERS\XADRV.SYS`:    true,
		`C:\Windows\System32\drivers\xabdrv.sys`:   false,
		`C:\Windows\System32\drivers\tmtdi.sys`:    false, // the default is replaced, not extended
		`C:\Temp\ofcfwdrv.sys`:                     false,
	} {
		if got := m.Ours(Operation{Source: path, Delete: true}); got != want {
			t.Errorf("patterns %q, %s: got %v, want %v", m.drivers, path, got, want)
		}
	}
}

func TestNewMatcherRefusesBadPatterns(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		want     string
	}{
		{nil, "no driver pattern"},
		{[]string{"tm*.sys", " "}, `driver pattern " ": empty`},
		{[]string{`drivers\tm*.sys`}, "may not contain a folder"},
		{[]string{"system32/tm*.sys"}, "may not contain a folder"},
		{[]string{"tm[.sys"}, "syntax error in pattern"},
	} {
		_, err := NewMatcher(tc.patterns)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewMatcher(%q) = %v, want an error containing %q", tc.patterns, err, tc.want)
		}
	}
}
