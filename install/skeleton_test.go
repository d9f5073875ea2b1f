package install

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

func load(t *testing.T, text string) (*config.File, error) {
	t.Helper()
	path := filepath.Join(testdir.New(t), "config.yml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return config.Load(path)
}

// The skeleton, as written, is accepted by config.Load with nothing set but
// the listen address and (when the registry names one) the server folder:
// with and without a registry folder, with awkward folder names, with
// Windows line ends.
func TestSkeletonLoadsAsWritten(t *testing.T) {
	for _, in := range []SkeletonInput{
		{ListenAddress: ":9745", ServerDir: `C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV`},
		{ListenAddress: "127.0.0.1:9799", ServerDir: `D:\O'Brien's #1: "Apex One"\PCCSRV`},
		{ListenAddress: "[::1]:9745", ServerDirNote: "no OfficeScan / Apex One server is recorded in the registry (none of HKLM\\[...] exists)"},
		{ListenAddress: ":9745", ServerDir: "C:\\bad\nfolder", ServerDirNote: "multi\nline"},
	} {
		for _, eol := range []string{"\n", "\r\n"} {
			text := strings.ReplaceAll(Skeleton(in), "\n", eol)
			f, err := load(t, text)
			if err != nil {
				t.Errorf("%+v: skeleton rejected: %v\n%s", in, err, text)
				continue
			}
			wantDir := in.ServerDir
			if strings.ContainsAny(wantDir, "\r\n") {
				wantDir = ""
			}
			if f.ServerDir != wantDir {
				t.Errorf("%+v: server_dir %q, want %q", in, f.ServerDir, wantDir)
			}
			if len(f.Settings) != 0 || len(f.Waivers) != 0 {
				t.Errorf("%+v: the skeleton sets settings %v or waivers %v; both must be commented examples", in, f.Settings, f.Waivers)
			}
			var flags []config.FlagValue
			for _, fl := range f.Flags {
				fl.Source = ""
				flags = append(flags, fl)
			}
			if want := []config.FlagValue{{Name: "web.listen-address", Values: []string{in.ListenAddress}}}; !reflect.DeepEqual(flags, want) {
				t.Errorf("%+v: flags %+v, want only %+v", in, flags, want)
			}
		}
	}
	if s := Skeleton(SkeletonInput{ListenAddress: ":9745"}); !strings.Contains(s, "# server_dir: 'C:\\Program Files (x86)\\Trend Micro\\Apex One\\PCCSRV'") {
		t.Errorf("without a registry folder the skeleton lacks the commented placeholder:\n%s", s)
	}
}

// The commented examples are real config once uncommented: removing the
// "# " of the settings and waivers blocks gives a file config.Load accepts,
// with every console setting mapped and one waiver.
func TestSkeletonExamplesWorkUncommented(t *testing.T) {
	s := Skeleton(SkeletonInput{ListenAddress: ":9745", ServerDir: `C:\PCCSRV`})
	for _, block := range []string{SettingsExample(), WaiversExample} {
		commented := commentOut(block)
		if !strings.Contains(s, commented) {
			t.Fatalf("skeleton lacks the commented block\n%s", commented)
		}
		s = strings.Replace(s, commented, block, 1)
	}
	f, err := load(t, s)
	if err != nil {
		t.Fatalf("uncommented skeleton rejected: %v\n%s", err, s)
	}
	var names []string
	for name, m := range f.Settings {
		names = append(names, name)
		if !strings.HasPrefix(m.Key, "Example_") || !strings.HasPrefix(m.Section, "Example_") {
			t.Errorf("setting %s maps %s/%s: the example names must say they are examples", name, m.Section, m.Key)
		}
	}
	if len(names) != len(hazard.SettingNames()) {
		t.Errorf("uncommented settings %v, want every one of %v", names, hazard.SettingNames())
	}
	if len(f.Waivers) != 1 || f.Waivers[0].Hazard != "dbserver" {
		t.Errorf("uncommented waivers %+v, want the dbserver example", f.Waivers)
	}
}

// The skeleton says what the admin must know: the key names are not
// public, how settings diff finds them, each setting's console option, the
// waivable hazards.
func TestSkeletonExplains(t *testing.T) {
	s := Skeleton(SkeletonInput{ListenAddress: ":9745"})
	wants := []string{
		"Trend Micro does not publish which Ofcscan.ini keys hold them",
		"EXAMPLES, not real keys",
		"officescan_exporter.exe settings diff before.ini after.ini --setting SETTING",
		"docs/collector.settings.md",
		"Restart-Service officescan_exporter",
		"# waivers:",
		"# waived: " + strings.Join(hazard.WaivableNames(), ", ") + ".",
	}
	for _, st := range hazard.Settings {
		wants = append(wants, "#   "+st.Name+":\n#       "+st.Option+"\n")
	}
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("skeleton lacks %q", w)
		}
	}
	for i, line := range strings.Split(s, "\n") {
		if len(line) > 120 {
			t.Errorf("line %d is %d characters long: %q", i+1, len(line), line)
		}
	}
}

// With every setting mapped, install's last words say so instead of
// asking for the mapping.
func TestInstallSaysWhenEverySettingIsMapped(t *testing.T) {
	m := newMachine(t)
	cfg := filepath.Join(testdir.New(t), "config.yml")
	if err := os.WriteFile(cfg, []byte(SettingsExample()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := m.install(t, Options{ConfigFile: cfg, ListenAddress: ":9745"})
	contains(t, out, "The config file maps every console setting")
	lacks(t, out, "Next:")
}
