package settingslearn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Every .ini file under the folder is read, in subfolders too and whatever
// the case of its name; other files are not; a file that cannot be read is
// noted and the rest is still compared.
func TestTakeAndCompare(t *testing.T) {
	dir := testdir.New(t)
	sub := filepath.Join(dir, "Private")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	// Removed file by file: os.RemoveAll fails under Wine (see testdir).
	t.Cleanup(func() { os.Remove(filepath.Join(sub, "OFCSERVER.INI")); os.Remove(sub) })
	write(t, filepath.Join(dir, "Ofcscan.ini"), "[S]\na=1\nb=1\n")
	write(t, filepath.Join(sub, "OFCSERVER.INI"), "[P]\nk=0\n")
	write(t, filepath.Join(dir, "notes.txt"), "[S]\na=1\n")
	write(t, filepath.Join(dir, "gone.ini"), "[G]\nx=1\n")
	write(t, filepath.Join(dir, "broken.ini"), "[B]\nx=1\n")
	before, err := Take(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Files) != 4 || before.Files[filepath.Join("Private", "OFCSERVER.INI")] == nil || before.Files["notes.txt"] != nil {
		t.Fatalf("files read: %v", before.Files)
	}
	write(t, filepath.Join(dir, "Ofcscan.ini"), "[S]\na=1\nb=0\nc=2\n")
	write(t, filepath.Join(sub, "OFCSERVER.INI"), "[P]\nk=1\n")
	write(t, filepath.Join(dir, "new.ini"), "[N]\ny=1\n")
	write(t, filepath.Join(dir, "broken.ini"), "[B]\x00")
	os.Remove(filepath.Join(dir, "gone.ini"))
	after, err := Take(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := after.Unreadable["broken.ini"]; err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("broken.ini: %v", err)
	}
	cmp := Compare(before, after)
	var changed []string
	for _, c := range cmp.Changed {
		changed = append(changed, c.String())
	}
	want := []string{`Ofcscan.ini [S] b: "1" -> "0"`, filepath.Join("Private", "OFCSERVER.INI") + ` [P] k: "0" -> "1"`}
	if strings.Join(changed, "\n") != strings.Join(want, "\n") {
		t.Errorf("changed:\n%s\nwant:\n%s", strings.Join(changed, "\n"), strings.Join(want, "\n"))
	}
	other := strings.Join(cmp.Other, "\n")
	for _, w := range []string{`Ofcscan.ini [S] c = "2" was added`, "new.ini appeared", "gone.ini is gone", "broken.ini could be read only once"} {
		if !strings.Contains(other, w) {
			t.Errorf("other changes do not say %q:\n%s", w, other)
		}
	}
	if v, err := after.Value(cmp.Changed[1]); err != nil || v != "1" {
		t.Errorf("Value = %q, %v", v, err)
	}
	if _, err := after.Value(Candidate{File: "gone.ini"}); err == nil {
		t.Error("a value of a file that is gone")
	}
}

func TestTakeRefusesAFolderWithoutIniFiles(t *testing.T) {
	dir := testdir.New(t)
	if _, err := Take(dir); err == nil || !strings.Contains(err.Error(), "no readable .ini file under "+dir) {
		t.Errorf("empty folder: %v", err)
	}
	if _, err := Take(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing folder: %v", err)
	}
}
