// Package simulator imitates an OfficeScan server for the demo: a PCCSRV
// folder whose Ofcscan.ini holds the three console settings, processes named
// DbServer.exe and AutoPcc.exe that come and go on request, and a webhook
// receiver that prints what Alertmanager sends.
//
// The ini key names are the simulator's own: the real ones behind the console
// options are not publicly documented (docs/collector.settings.md explains how
// an administrator finds them with `officescan_exporter settings diff`).
package simulator

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/text/encoding/unicode"
)

// SettingKeys maps each contract setting to the simulated ini section and key.
var SettingKeys = map[string][2]string{
	"firewall":                            {"Global Setting", "SimFirewallEnabled"},
	"firewall_driver_update_after_reboot": {"Global Setting", "SimFwDriverUpdateAfterReboot"},
	"kernel_driver_restart_notification":  {"Alert Setting", "SimKernelDriverRestartNotice"},
}

// Settings holds each setting's ini value ("1" enabled, "0" disabled).
type Settings map[string]string

// Clear has every setting as a safe upgrade wants it.
func Clear() Settings {
	return Settings{"firewall": "1", "firewall_driver_update_after_reboot": "1", "kernel_driver_restart_notification": "1"}
}

// WriteIni writes dir/Ofcscan.ini in UTF-16LE with a byte-order mark and CRLF
// line ends, as Windows tools write it, through a temporary file and a rename
// so the exporter never reads half a file.
func WriteIni(dir string, s Settings) error {
	sections := map[string][]string{}
	for name, sk := range SettingKeys {
		v, ok := s[name]
		if !ok {
			continue
		}
		sections[sk[0]] = append(sections[sk[0]], sk[1]+"="+v)
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
	enc := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder()
	data, err := enc.Bytes([]byte(b.String()))
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
// simulated keys and waiving what the simulator cannot serve (Waivers).
func WriteConfig(path, serverDir string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# officescan_exporter config for the simulated server (example key names).\nserver_dir: '%s'\n", serverDir)
	waivers := Waivers(runtime.GOOS)
	hazards := make([]string, 0, len(waivers))
	for h := range waivers {
		hazards = append(hazards, h)
	}
	sort.Strings(hazards)
	b.WriteString("# Hazards the simulated server cannot show, left out on purpose (officescan_hazard_waived).\nwaivers:\n")
	for _, h := range hazards {
		fmt.Fprintf(&b, "  %s: %q\n", h, waivers[h])
	}
	b.WriteString("settings:\n")
	names := make([]string, 0, len(SettingKeys))
	for n := range SettingKeys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sk := SettingKeys[n]
		fmt.Fprintf(&b, "  %s:\n    file: Ofcscan.ini\n    section: %s\n    key: %s\n    enabled_values: [\"1\"]\n    disabled_values: [\"0\"]\n", n, sk[0], sk[1])
	}
	return writeAtomic(path, b.Bytes())
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
