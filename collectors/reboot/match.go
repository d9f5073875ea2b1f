package reboot

import (
	"fmt"
	"path"
	"strings"
)

// DriverPattern is the name of an OfficeScan kernel driver, matched ignoring
// case. UNVERIFIED: that Trend Micro's drivers are named tm*.sys (tmtdi.sys
// for TDI, others alike) is believed, not confirmed by any public list.
//
// It counts only in a folder named "drivers" (System32\drivers, where
// Windows loads such drivers from): the pattern is too loose to claim a
// tm*.sys anywhere on the disk for Trend Micro, and a queued driver update
// always has its target there. Files under the agent's own folder match
// whatever their name.
const DriverPattern = "tm*.sys"

// Matcher tells whether a queued operation touches OfficeScan's files.
type Matcher struct {
	installDirs [][]string
}

// AddInstallDir adds an agent install folder (the registry's
// `Application Path`). A folder that is not absolute, or is a drive root,
// would make unrelated files look like OfficeScan's, so it is refused.
func (m *Matcher) AddInstallDir(dir string) error {
	comps, abs := splitPath(dir)
	if !abs || len(comps) < 2 {
		return fmt.Errorf("install folder %q is not an absolute folder below a drive or share root", dir)
	}
	m.installDirs = append(m.installDirs, comps)
	return nil
}

// Ours reports whether op moves, replaces or deletes an OfficeScan file: a
// tm*.sys driver in a drivers folder, or anything under an install folder.
func (m *Matcher) Ours(op Operation) bool {
	return m.ourPath(op.Source) || (op.Target != "" && m.ourPath(op.Target))
}

func (m *Matcher) ourPath(p string) bool {
	comps, abs := splitPath(p)
	if n := len(comps); n >= 2 && strings.EqualFold(comps[n-2], "drivers") {
		if ok, _ := path.Match(DriverPattern, strings.ToLower(comps[n-1])); ok {
			return true
		}
	}
	if !abs {
		return false
	}
	for _, dir := range m.installDirs {
		if within(comps, dir) {
			return true
		}
	}
	return false
}

// within reports whether the path comps is dir or lies below it. Whole
// components are compared, so `...\OfficeScan Client2` is not inside
// `...\OfficeScan Client`. Windows file names ignore case.
func within(comps, dir []string) bool {
	if len(comps) < len(dir) {
		return false
	}
	for i, d := range dir {
		if !strings.EqualFold(comps[i], d) {
			return false
		}
	}
	return true
}

// devicePrefixes are the ways a queued path may name the DOS-device
// namespace; what follows is a drive path or UNC\server\share.
var devicePrefixes = []string{`\??\`, `\\?\`, `\\.\`, `\DosDevices\`, `\GLOBAL??\`}

// splitPath turns a Windows path into its components, the first being the
// root ("C:" or `\\server`), resolving "." and ".." so that
// `C:\Program Files\Trend Micro\OfficeScan Client\..\..\x` is not taken for
// a file of the agent. abs reports a drive or UNC root. Either separator is
// accepted. Short (8.3) names are not expanded: that needs the file system.
func splitPath(p string) (comps []string, abs bool) {
	p = strings.ReplaceAll(p, "/", `\`)
	unc := false
	for _, pre := range devicePrefixes {
		if len(p) >= len(pre) && strings.EqualFold(p[:len(pre)], pre) {
			p = p[len(pre):]
			if len(p) >= 4 && strings.EqualFold(p[:4], `UNC\`) {
				p, unc = p[4:], true
			}
			break
		}
	}
	if !unc && strings.HasPrefix(p, `\\`) {
		p, unc = p[2:], true
	}
	for _, c := range strings.Split(p, `\`) {
		switch c {
		case "", ".":
		case "..":
			if len(comps) > 1 {
				comps = comps[:len(comps)-1]
			}
		default:
			comps = append(comps, c)
		}
	}
	if len(comps) == 0 {
		return nil, false
	}
	if unc {
		comps[0] = `\\` + comps[0]
		return comps, true
	}
	first := comps[0]
	return comps, len(first) == 2 && first[1] == ':' && isLetter(first[0])
}

func isLetter(b byte) bool { return 'a' <= b|0x20 && b|0x20 <= 'z' }
