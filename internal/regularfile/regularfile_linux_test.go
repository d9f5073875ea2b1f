package regularfile

import (
	"fmt"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/regularfile/regularfiletest"
)

func TestRefusesNonFiles(t *testing.T) {
	regularfiletest.RefusesNonFiles(t, func(path string) error {
		_, _, err := Read(path, 1<<20)
		if err != nil {
			// Read leaves naming the file to its caller, as config and ini do.
			err = fmt.Errorf("%s: %w", path, err)
		}
		return err
	})
}
