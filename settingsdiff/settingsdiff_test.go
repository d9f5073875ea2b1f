package settingsdiff

import (
	"bytes"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/ini"
)

func read(t *testing.T, name string) *ini.File {
	t.Helper()
	f, err := ini.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func parse(t *testing.T, text string) *ini.File {
	t.Helper()
	f, err := ini.Parse("mem.ini", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The fixtures hold the same text in different encodings, with non-ASCII
// values, and one key toggled: any decoding mistake shows as extra changes.
func TestDiffAcrossEncodingsNamesExactlyTheToggledKey(t *testing.T) {
	before := read(t, "before-utf16le.ini")
	for _, name := range []string{"after-windows1252.ini", "after-utf16be.ini", "after-utf8bom.ini"} {
		t.Run(name, func(t *testing.T) {
			r := Diff(before, read(t, name))
			want := Change{Kind: Changed, Section: "Example_Global_Setting", Key: "Example_Kernel_Restart_Notify", Before: "0", After: "1", BeforeLine: 10, AfterLine: 10}
			if len(r.Changes) != 1 || r.Changes[0] != want {
				t.Fatalf("changes = %+v, want only %+v", r.Changes, want)
			}
			var out bytes.Buffer
			if err := r.Write(&out); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			for _, w := range []string{"(UTF-16LE)", "[Example_Global_Setting]\n~ Example_Kernel_Restart_Notify: \"0\" -> \"1\" (line 10 -> 10)\n", "1 changed, 0 added, 0 removed"} {
				if !strings.Contains(text, w) {
					t.Errorf("output does not contain %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "Example_Server_Section") || strings.Contains(text, "Example_Firewall_Enabled") {
				t.Errorf("output names an unchanged section or key:\n%s", text)
			}
		})
	}
	if r := Diff(before, read(t, "before-utf8-lf.ini")); len(r.Changes) != 0 {
		t.Errorf("the same file re-saved as UTF-8 with LF shows changes: %+v", r.Changes)
	}
}

func TestDiffAddedRemovedCaseAndDuplicates(t *testing.T) {
	before := parse(t, "[A]\nkeep=1\ngone=2\nFlag=0\n[OnlyBefore]\nx=1\n")
	after := parse(t, "[a]\nKEEP=1\nflag=1\nnew=3\nflag=9\n[OnlyAfter]\ny=2\n[A]\nlate=4\n")
	r := Diff(before, after)
	want := []Change{
		{Kind: Changed, Section: "a", Key: "flag", Before: "0", After: "1", BeforeLine: 4, AfterLine: 3},
		{Kind: Added, Section: "a", Key: "new", After: "3", AfterLine: 4},
		{Kind: Removed, Section: "a", Key: "gone", Before: "2", BeforeLine: 3},
		{Kind: Added, Section: "OnlyAfter", Key: "y", After: "2", AfterLine: 7},
		{Kind: Removed, Section: "OnlyBefore", Key: "x", Before: "1", BeforeLine: 6},
	}
	if len(r.Changes) != len(want) {
		t.Fatalf("changes = %+v, want %+v", r.Changes, want)
	}
	for i := range want {
		if r.Changes[i] != want[i] {
			t.Errorf("change %d = %+v, want %+v", i, r.Changes[i], want[i])
		}
	}
	notes := strings.Join(r.Notes, "\n")
	for _, w := range []string{"mem.ini:5: key flag in [a] appears again", "mem.ini:8: section [A] appears again"} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes do not contain %q:\n%s", w, notes)
		}
	}
	if _, err := r.Toggled(); err != nil {
		t.Errorf("Toggled: %v", err)
	}
}

func TestToggledRefusesWhatIsNotOneToggle(t *testing.T) {
	for name, tc := range map[string]struct{ before, after, want string }{
		"nothing changed": {"[S]\nk=1\n", "[s]\nK=1\n", "same values"},
		"two changed":     {"[S]\na=1\nb=1\n", "[S]\na=0\nb=0\n", "2 keys changed value ([S] a, [S] b)"},
		"only added":      {"[S]\na=1\n", "[S]\na=1\nb=1\n", "1 were added"},
	} {
		_, err := Diff(parse(t, tc.before), parse(t, tc.after)).Toggled()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v does not contain %q", name, err, tc.want)
		}
	}
}

func TestConfigBlockParsesBackThroughTheConfigLoader(t *testing.T) {
	c := Change{Kind: Changed, Section: "Example Global: Setting #1", Key: "Example'Key", Before: "0", After: "yes: \"quoted\""}
	for _, enabledInBefore := range []bool{false, true} {
		for _, setting := range hazard.SettingNames() {
			out, err := ConfigBlock(c, BlockOptions{Setting: setting, File: "Ofcscan.ini", EnabledInBefore: enabledInBefore})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Parse("pasted.yml", out)
			if err != nil {
				t.Fatalf("the block does not load: %v\n%s", err, out)
			}
			got := cfg.Settings[setting]
			en, dis := c.After, c.Before
			if enabledInBefore {
				en, dis = dis, en
			}
			if got.File != "Ofcscan.ini" || got.Section != c.Section || got.Key != c.Key ||
				len(got.EnabledValues) != 1 || got.EnabledValues[0] != en || len(got.DisabledValues) != 1 || got.DisabledValues[0] != dis {
				t.Errorf("loaded back as %+v from:\n%s", got, out)
			}
		}
	}
	if _, err := ConfigBlock(Change{Kind: Changed, Section: "S", Key: "k", Before: "on", After: "ON"}, BlockOptions{Setting: "firewall", File: "Ofcscan.ini"}); err == nil {
		t.Error("a change of letter case only made a mapping whose values read the same")
	}
}
