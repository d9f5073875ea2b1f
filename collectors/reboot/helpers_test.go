package reboot

import (
	"encoding/binary"
	"unicode/utf16"
)

// encodeMultiSZ lays strs out as Windows stores a REG_MULTI_SZ: each string
// NUL-terminated, then the list terminator, in UTF-16LE.
func encodeMultiSZ(strs ...string) []byte {
	var units []uint16
	for _, s := range strs {
		units = append(units, utf16.Encode([]rune(s))...)
		units = append(units, 0)
	}
	units = append(units, 0)
	out := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(out[2*i:], u)
	}
	return out
}

// Values recorded from the shapes Windows writes. The tmtdi.sys pair is how
// a driver update queues its swap: the new file beside the loaded one, moved
// over it (the "!" asks to replace the existing file) at the next start-up.
var (
	tmtdiReplacement = []string{
		`\??\C:\Windows\system32\drivers\tmtdi.sys.new`,
		`!\??\C:\Windows\system32\drivers\tmtdi.sys`,
	}
	tmDriverDelete = []string{
		`\??\C:\Windows\system32\drivers\TMEBC64.SYS`, ``,
	}
	otherVendorDriver = []string{
		`\??\C:\Windows\system32\drivers\SysmonDrv.sys.tmp`,
		`!\??\C:\Windows\system32\drivers\SysmonDrv.sys`,
	}
	otherVendorDelete = []string{
		`\??\C:\Windows\Temp\vmware-tools\vmhgfs.dll`, ``,
	}
	agentFolderFile = []string{
		`\??\C:\Program Files (x86)\Trend Micro\OfficeScan Client\TmListen.exe.bak`, ``,
	}
	lookalikeFolderFile = []string{
		`\??\C:\Program Files (x86)\Trend Micro\OfficeScan Client2\TmListen.exe.bak`, ``,
	}
)

const agentDir = `C:\Program Files (x86)\Trend Micro\OfficeScan Client\`

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
