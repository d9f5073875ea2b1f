// Package textfile writes metrics for a textfile collector (windows_exporter's
// or node_exporter's), which reads every *.prom file in a folder at each
// scrape.
//
// The file is replaced atomically: written under a temporary name in the same
// folder (a name the collector ignores), then renamed over the old one, so a
// scrape sees the whole old file or the whole new one, never half a file.
package textfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Ext is the only extension textfile collectors read.
const Ext = ".prom"

// Write gathers g and replaces path with the text exposition. Nothing is
// written when gathering fails, so a half-gathered set never replaces a
// whole one.
func Write(path string, g prometheus.Gatherer) error {
	if !strings.EqualFold(filepath.Ext(path), Ext) {
		return fmt.Errorf("%s: textfile collectors only read *%s files", path, Ext)
	}
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("gathering metrics for %s: %w", path, err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("encoding %s for %s: %w", mf.GetName(), path, err)
		}
	}
	return writeAtomic(path, buf.Bytes())
}

// renameAttempts and renameBackoff bound the wait for a reader to let go of
// the old file (see isTransientRename).
const (
	renameAttempts = 20
	renameBackoff  = 50 * time.Millisecond
)

func writeAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// The temporary name ends in .tmp so the collector skips it.
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("creating a temporary file next to %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	// Flushed before the rename, so a crash leaves the old file or the new
	// one, not an empty new one.
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("flushing %s: %w", tmp.Name(), err)
	}
	// CreateTemp makes the file private; the exporter reading it may run as
	// another user (on Windows this only clears the read-only attribute; the
	// file takes the folder's ACL).
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("making %s readable: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	for attempt := 1; ; attempt++ {
		err = os.Rename(tmp.Name(), path)
		if err == nil || !isTransientRename(err) || attempt == renameAttempts {
			break
		}
		time.Sleep(renameBackoff)
	}
	if err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return nil
}
