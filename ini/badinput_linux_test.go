package ini

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/asuser"
	"github.com/officescan-exporter/officescan_exporter/internal/regularfile/regularfiletest"
)

// Files that are not files: each must give an error naming the path at once,
// never a hang and never an empty file read as "no such key".
func TestReadFileRefusesWhatIsNotAFile(t *testing.T) {
	regularfiletest.RefusesNonFiles(t, func(path string) error {
		_, err := ReadFile(path)
		return err
	})
}

// TestReadFileUnreadableNamesTheFile reads a file with no read permission as
// an unprivileged user (root would read it anyway).
func TestReadFileUnreadableNamesTheFile(t *testing.T) {
	if asuser.Child() {
		path := os.Getenv("OSE_TEST_INI")
		_, err := ReadFile(path)
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
			t.Fatalf("error %v, want permission denied naming %s", err, path)
		}
		return
	}
	path := filepath.Join(asuser.Dir(t), "Ofcscan.ini")
	if err := os.WriteFile(path, []byte("[S]\r\nK=1\r\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	asuser.Run(t, "TestReadFileUnreadableNamesTheFile", "OSE_TEST_INI="+path)
}
