//go:build !windows

// promtool is a Linux binary: on Windows (under Wine) the file the Windows
// build writes is linted by scripts/test.d/32-agent-wine.sh instead.

package textfile

import (
	"path/filepath"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
	"github.com/officescan-exporter/officescan_exporter/textfile/textfiletest"
)

func TestWrittenFileLints(t *testing.T) {
	path := filepath.Join(testdir.New(t), "officescan.prom")
	if err := Write(path, sampleGatherer()); err != nil {
		t.Fatal(err)
	}
	textfiletest.Lint(t, path)
}
