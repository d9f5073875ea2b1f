package ini

import (
	"testing"

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
	regularfiletest.RefusesUnreadable(t, []byte("[S]\r\nK=1\r\n"), func(path string) error {
		_, err := ReadFile(path)
		return err
	})
}
