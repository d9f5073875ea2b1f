package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's flag table is what administrators copy from: every flag it
// names must exist, and every default it states (in backticks) must be the
// binary's.
func TestReadmeFlagDefaults(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	a := newApp()
	newServeCommand(a) // the web flags belong to the serve command's wiring
	defaults := map[string]string{}
	for _, f := range a.kp.Model().Flags {
		defaults[f.Name] = strings.Join(f.Default, ",")
	}
	row := regexp.MustCompile("(?m)^\\| `--([a-z0-9.-]+)` \\|([^|]*)\\|")
	rows := row.FindAllStringSubmatch(string(readme), -1)
	if len(rows) < 18 {
		t.Fatalf("found %d flag rows in README.md; the table's format changed?", len(rows))
	}
	for _, r := range rows {
		name, stated := r[1], strings.TrimSpace(r[2])
		def, ok := defaults[name]
		if !ok {
			t.Errorf("README names --%s, which the binary does not have", name)
			continue
		}
		if v, quoted := strings.CutPrefix(stated, "`"); quoted {
			if v = strings.TrimSuffix(v, "`"); v != def {
				t.Errorf("README says --%s defaults to %q; the binary's default is %q", name, v, def)
			}
		} else if stated == "" && def != "" {
			t.Errorf("README states no default for --%s; the binary's is %q", name, def)
		}
	}
}
