// Package testdir gives tests a temporary folder that also works under Wine.
package testdir

import (
	"os"
	"path/filepath"
	"testing"
)

// New is t.TempDir for tests that also run under Wine, where os.RemoveAll
// (and so t.TempDir's cleanup) fails with "Invalid function": Wine 8 answers
// STATUS_NOT_IMPLEMENTED to the delete call Go uses and Go does not fall
// back. Plain removes work, so the folder is emptied file by file; tests
// keep their folders flat.
func New(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ose-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			os.Remove(filepath.Join(dir, e.Name()))
		}
		if err := os.Remove(dir); err != nil {
			t.Errorf("cleaning up %s: %v", dir, err)
		}
	})
	return dir
}
