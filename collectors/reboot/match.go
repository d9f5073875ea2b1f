package reboot

import (
	"fmt"
	"path"
	"strings"
)

// DefaultDriverPatterns name OfficeScan's kernel drivers, matched ignoring
// case. UNVERIFIED: that Trend Micro's drivers are named tm*.sys (tmtdi.sys
// for TDI, others alike) is believed, not confirmed by any public list, so
// --collector.reboot.driver-pattern replaces them.
//
// They count only in a folder named "drivers" (System32\drivers, where
// Windows loads such drivers from): tm*.sys is too loose to claim a file
// anywhere on the disk for Trend Micro, and a queued driver update always has
// its target there. Files under the agent's own folder match whatever their
// name.
var DefaultDriverPatterns = []string{"tm*.sys"}

// Matcher tells whether a queued operation touches OfficeScan's files.
type Matcher struct {
	drivers     []string // lower case
	installDirs [][]string
}

// NewMatcher returns a matcher for driver file names like patterns (globs as
// in path.Match, compared ignoring case). A pattern must name a file, not a
// path: it is matched against the last component in a drivers folder.
func NewMatcher(patterns []string) (*Matcher, error) {
	if len(patterns) == 0 {
		// No pattern would let a queued driver swap read as "no restart pending".
		return nil, fmt.Errorf("no driver pattern given")
	}
	m := &Matcher{}
	for _, p := range patterns {
		lp := strings.ToLower(strings.TrimSpace(p))
		switch {
		case lp == "":
			return nil, fmt.Errorf("driver pattern %q: empty", p)
		case strings.ContainsAny(lp, `/\`):
			return nil, fmt.Errorf("driver pattern %q: a file name pattern may not contain a folder (it is matched in a drivers folder)", p)
		}
		if _, err := path.Match(lp, ""); err != nil {
			return nil, fmt.Errorf("driver pattern %q: %w", p, err)
		}
		m.drivers = append(m.drivers, lp)
	}
	return m, nil
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
// driver named like the patterns in a drivers folder, or anything under an
// install folder.
func (m *Matcher) Ours(op Operation) bool {
	return m.ourPath(op.Source) || (op.Target != "" && m.ourPath(op.Target))
}

func (m *Matcher) ourPath(p string) bool {
	comps, abs := splitPath(p)
	if n := len(comps); n >= 2 && strings.EqualFold(comps[n-2], "drivers") {
		name := strings.ToLower(comps[n-1])
		for _, p := range m.drivers {
			if ok, _ := path.Match(p, name); ok {
				return true
			}
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
