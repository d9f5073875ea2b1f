// Package simulator is the one fake OfficeScan server: the demo, the
// end-to-end tests (through e2e/fixture) and the unit tests all use it. It
// writes a PCCSRV folder whose Ofcscan.ini holds the three console settings
// and the exporter config file that maps them; the demo adds processes named
// DbServer.exe and AutoPcc.exe that come and go on request, and a webhook
// receiver that prints what Alertmanager sends.
//
// The ini key names are plainly examples (Example_Firewall_Enabled, ...): the
// real ones behind the console options are not publicly documented
// (docs/collector.settings.md explains how an administrator finds them with
// `officescan_exporter settings learn`).
package simulator

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// GlobalSection is the ini section of the two firewall settings, unless
// WithSection names another.
const GlobalSection = "Global Setting"

// SettingKeys maps each contract setting to the simulated ini section and key
// (the firewall settings' section is GlobalSection unless WithSection names
// another).
var SettingKeys = map[string][2]string{
	"firewall":                            {GlobalSection, "Example_Firewall_Enabled"},
	"firewall_driver_update_after_reboot": {GlobalSection, "Example_FW_Driver_Update_After_Reboot"},
	"kernel_driver_restart_notification":  {"Alert Setting", "Example_Kernel_Restart_Notify"},
}

// Settings holds each setting's raw ini value ("1" enabled, "0" disabled,
// anything else as written); a setting left out has no key in the file.
type Settings map[string]string

// Clear has every setting as a safe upgrade wants it.
func Clear() Settings {
	return Settings{"firewall": "1", "firewall_driver_update_after_reboot": "1", "kernel_driver_restart_notification": "1"}
}

// Option varies what WriteIni and WriteConfig write; each writer ignores the
// options that are not about its file.
type Option func(*options)

type options struct {
	section    string
	ansi       bool
	mapped     []string
	waivers    map[string]string
	waiversSet bool
}

func makeOptions(opts []Option) options {
	o := options{section: GlobalSection}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// key is the section and key of setting name under o.
func (o options) key(name string) (section, key string, ok bool) {
	sk, ok := SettingKeys[name]
	if !ok {
		return "", "", false
	}
	if sk[0] == GlobalSection {
		sk[0] = o.section
	}
	return sk[0], sk[1], true
}

// WithSection puts the firewall settings in section instead of
// GlobalSection, in both files; tests put hostile text here to check
// escaping.
func WithSection(section string) Option { return func(o *options) { o.section = section } }

// ANSI makes WriteIni write Windows-1252 (as Notepad's ANSI) instead of
// UTF-16LE.
func ANSI() Option { return func(o *options) { o.ansi = true } }

// Mapped makes WriteConfig map only the settings named; by default it maps
// all three.
func Mapped(names ...string) Option {
	return func(o *options) { o.mapped = append([]string(nil), names...) }
}

// WithWaivers makes WriteConfig waive these hazards (hazard name to reason;
// none when empty) instead of Waivers(runtime.GOOS).
func WithWaivers(w map[string]string) Option {
	return func(o *options) { o.waivers, o.waiversSet = w, true }
}

// WriteIni writes dir/Ofcscan.ini in UTF-16LE with a byte-order mark (or
// ANSI, see ANSI) and CRLF line ends, as Windows tools write it, through a
// temporary file and a rename so the exporter never reads half a file.
func WriteIni(dir string, s Settings, opts ...Option) error {
	o := makeOptions(opts)
	sections := map[string][]string{}
	for name := range SettingKeys {
		v, ok := s[name]
		if !ok {
			continue
		}
		section, key, _ := o.key(name)
		sections[section] = append(sections[section], key+"="+v)
	}
	names := make([]string, 0, len(sections))
	for n := range sections {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("; Simulated OfficeScan server settings (example key names)\r\n")
	for _, n := range names {
		sort.Strings(sections[n])
		fmt.Fprintf(&b, "[%s]\r\nMaster_DomainPort=8080\r\n%s\r\n", n, strings.Join(sections[n], "\r\n"))
	}
	var data []byte
	var err error
	if o.ansi {
		data, err = charmap.Windows1252.NewEncoder().Bytes([]byte(b.String()))
	} else {
		data, err = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(b.String()))
	}
	if err != nil {
		return fmt.Errorf("encoding Ofcscan.ini: %w", err)
	}
	return writeAtomic(filepath.Join(dir, "Ofcscan.ini"), data)
}

// Waivers returns the hazards the demo's exporter config waives on goos,
// each with the reason the exporter exports and shows. The verdict needs
// every hazard proven clear or waived, and the simulator serves no SMB
// share: on Linux there is no share collector at all, and on Windows the
// demo machine has no ofcscan share for it to watch. Every other hazard's
// input the simulated server provides (processes, Ofcscan.ini).
func Waivers(goos string) map[string]string {
	reason := "Linux demo: no SMB share to watch"
	switch goos {
	case "linux":
	case "windows":
		reason = "Windows demo: the simulated server has no ofcscan share, so no SMB sessions to watch"
	default:
		reason = goos + " demo: no SMB share to watch"
	}
	return map[string]string{"share": reason}
}

// WriteConfig writes the exporter's config file mapping the settings to the
// simulated keys (all three, or those of Mapped) and waiving what the
// simulator cannot serve (Waivers, or those of WithWaivers).
func WriteConfig(path, serverDir string, opts ...Option) error {
	o := makeOptions(opts)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# officescan_exporter config for the simulated server (example key names).\nserver_dir: %s\n", quote(serverDir))
	waivers := Waivers(runtime.GOOS)
	if o.waiversSet {
		waivers = o.waivers
	}
	if len(waivers) > 0 {
		hazards := make([]string, 0, len(waivers))
		for h := range waivers {
			hazards = append(hazards, h)
		}
		sort.Strings(hazards)
		b.WriteString("# Hazards the simulated server cannot show, left out on purpose (officescan_hazard_waived).\nwaivers:\n")
		for _, h := range hazards {
			fmt.Fprintf(&b, "  %s: %s\n", h, quote(waivers[h]))
		}
	}
	names := o.mapped
	if names == nil {
		names = make([]string, 0, len(SettingKeys))
		for n := range SettingKeys {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	if len(names) > 0 {
		b.WriteString("settings:\n")
	}
	for _, n := range names {
		section, key, ok := o.key(n)
		if !ok {
			return fmt.Errorf("writing %s: no simulated key for setting %q", path, n)
		}
		fmt.Fprintf(&b, "  %s:\n    file: Ofcscan.ini\n    section: %s\n    key: %s\n    enabled_values: [\"1\"]\n    disabled_values: [\"0\"]\n", n, quote(section), key)
	}
	return writeAtomic(path, b.Bytes())
}

// quote makes s a YAML single-quoted scalar.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sim-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
