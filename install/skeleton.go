package install

import (
	"fmt"
	"strings"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// SkeletonInput is what the config skeleton is written from.
type SkeletonInput struct {
	// ListenAddress is the exporter's --web.listen-address at install.
	ListenAddress string
	// ServerDir is the registry's Local_Path, "" when there is none;
	// ServerDirNote says why there is none, for the comment.
	ServerDir     string
	ServerDirNote string
}

// exampleKeys are the made-up key names of the commented settings example,
// the same as docs/install-windows.md's.
var exampleKeys = map[string]string{
	hazard.SettingFirewall:            "Example_Firewall_Enabled",
	hazard.SettingFirewallDriverDefer: "Example_Firewall_Driver_After_Reboot",
	hazard.SettingRestartNotification: "Example_Kernel_Restart_Notify",
}

// SettingsExample is the settings block the skeleton carries commented out:
// one entry per console setting, with made-up key names.
func SettingsExample() string {
	var b strings.Builder
	b.WriteString("settings:\n")
	for _, s := range hazard.Settings {
		key := exampleKeys[s.Name]
		if key == "" {
			key = "Example_" + s.Name
		}
		fmt.Fprintf(&b, "  %s:\n", s.Name)
		b.WriteString("    file: Ofcscan.ini\n")
		b.WriteString("    section: Example_Global_Setting\n")
		fmt.Fprintf(&b, "    key: %s\n", key)
		b.WriteString("    enabled_values: [\"1\"]\n")
		b.WriteString("    disabled_values: [\"0\"]\n")
	}
	return b.String()
}

// WaiversExample is the waivers block the skeleton carries commented out.
const WaiversExample = "waivers:\n  dbserver: \"this server's database is SQL Server, not DbServer.exe\"\n"

// commentOut prefixes every line of block with "# ".
func commentOut(block string) string {
	lines := strings.Split(strings.TrimSuffix(block, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "# " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// yamlSingleQuoted quotes s for YAML: in single quotes a backslash is
// itself (Windows paths), and a quote is doubled.
func yamlSingleQuoted(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Skeleton is the commented config file install writes when there is none.
// config.Load accepts it as it is: its only keys are the listen address and,
// when the registry names one, the server folder; the settings and waivers
// are commented examples. Lines end in "\n"; the caller may turn them into
// "\r\n" for Windows' Notepad.
func Skeleton(in SkeletonInput) string {
	var b strings.Builder
	b.WriteString(`# officescan_exporter config file, written by "officescan_exporter install".
# install never overwrites it and uninstall leaves it in place.
#
# Any flag can be set here by its name without the dashes (collector.share: false). A flag on the
# service's command line wins over this file (see it with: sc.exe qc officescan_exporter).
# Unknown keys stop the exporter at start, with the line named in the Event Log.
# After an edit: Restart-Service officescan_exporter
# Every key: docs/install-windows.md, "The config file".

`)
	fmt.Fprintf(&b, "web.listen-address: %s\n\n", yamlSingleQuoted(in.ListenAddress))

	if in.ServerDir != "" && !strings.ContainsAny(in.ServerDir, "\r\n") {
		b.WriteString(`# The OfficeScan / Apex One server folder (PCCSRV), as the registry named it at install
# (HKLM\SOFTWARE\WOW6432Node\TrendMicro\OfficeScan\service\Information, value Local_Path).
# Delete this line to have the exporter read the registry at every start instead.
`)
		fmt.Fprintf(&b, "server_dir: %s\n\n", yamlSingleQuoted(in.ServerDir))
	} else {
		b.WriteString("# The OfficeScan / Apex One server folder (PCCSRV). At install the registry named none")
		if in.ServerDirNote != "" {
			b.WriteString(":\n# " + strings.ReplaceAll(in.ServerDirNote, "\n", " "))
		}
		b.WriteString(`.
# The exporter looks in the registry (Local_Path) at every start; set the folder here only if the
# registry is wrong or missing (OfficeScan's default folder is ...\Trend Micro\OfficeScan\PCCSRV):
# server_dir: 'C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV'

`)
	}

	b.WriteString(`# The three console settings the upgrade depends on. Until each one is mapped it is unknown and
# the verdict stays blocked. Trend Micro does not publish which Ofcscan.ini keys hold them: the
# section and key names below are EXAMPLES, not real keys. Find yours once, for each setting:
#   1. copy PCCSRV\Ofcscan.ini to before.ini
#   2. in the web console, toggle only that option and save
#   3. copy PCCSRV\Ofcscan.ini to after.ini
#   4. officescan_exporter.exe settings diff before.ini after.ini --setting SETTING
#      prints the entry to paste below when exactly one key changed.
# Then set the option back the way you want it. The whole procedure: docs/collector.settings.md.
# The settings, by name and console option:
`)
	for _, s := range hazard.Settings {
		fmt.Fprintf(&b, "#   %s:\n#       %s\n", s.Name, s.Option)
	}
	b.WriteString("#\n")
	b.WriteString(commentOut(SettingsExample()))
	b.WriteString(`
# Hazards that do not apply to this server, each with its reason. A waiver is shown on the page, in
# check and on the dashboard; switching a collector off is never a waiver. Hazards that can be
`)
	fmt.Fprintf(&b, "# waived: %s.\n", strings.Join(hazard.WaivableNames(), ", "))
	b.WriteString(commentOut(WaiversExample))
	return b.String()
}
