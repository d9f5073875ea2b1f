// Package settingslearn finds the ini key behind each console option with
// the admin at the console: it reads every ini file of the server folder,
// has the admin toggle one option and save, reads them again, and shows the
// keys whose value changed. The admin then toggles the option back, the key
// must return to its first value, and the mapping is written into the config
// file in place (config.WriteSetting). Session is that dialogue; Snapshot and
// Compare are the reading and comparing.
package settingslearn

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/officescan-exporter/officescan_exporter/ini"
	"github.com/officescan-exporter/officescan_exporter/settingsdiff"
)

// Snapshot is every *.ini file under a folder, as read at one moment.
type Snapshot struct {
	Dir string
	// Files are by path relative to Dir, as the config file's `file` is.
	Files map[string]*ini.File
	// Unreadable are the files that could not be read, with why.
	Unreadable map[string]error
}

// Take reads every file whose name ends in .ini (any case) under dir, in
// every subfolder. A file that cannot be read is noted, not fatal: the
// server may hold one open; a folder that cannot be walked at all is.
func Take(dir string) (*Snapshot, error) {
	s := &Snapshot{Dir: dir, Files: map[string]*ini.File{}, Unreadable: map[string]error{}}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			s.Unreadable[rel(dir, path)] = err
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() || !strings.EqualFold(filepath.Ext(path), ".ini") {
			return nil
		}
		f, err := ini.ReadFile(path)
		if err != nil {
			s.Unreadable[rel(dir, path)] = err
			return nil
		}
		s.Files[rel(dir, path)] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the server folder %s: %w", dir, err)
	}
	if len(s.Files) == 0 {
		return nil, fmt.Errorf("no readable .ini file under %s (%d unreadable): is it the server folder (PCCSRV)? Give it with --officescan.server-dir", dir, len(s.Unreadable))
	}
	return s, nil
}

func rel(dir, path string) string {
	r, err := filepath.Rel(dir, path)
	if err != nil {
		return path
	}
	return r
}

// Candidate is a key whose value changed between two snapshots.
type Candidate struct {
	// File is relative to the snapshots' folder.
	File string
	settingsdiff.Change
}

func (c Candidate) String() string {
	return fmt.Sprintf("%s [%s] %s: %q -> %q", c.File, c.Section, c.Key, c.Before, c.After)
}

// Where names the key without its values.
func (c Candidate) Where() string { return fmt.Sprintf("%s [%s] %s", c.File, c.Section, c.Key) }

// Comparison is what changed between two snapshots.
type Comparison struct {
	// Changed are the keys whose value changed, by file then as in the
	// file: the candidates for the option's key.
	Changed []Candidate
	// Other says what else changed: keys added or removed (a missing key
	// reads as unknown, so such a key cannot be mapped), files that
	// appeared, went or could be read only once.
	Other []string
}

// Compare compares before and after file by file.
func Compare(before, after *Snapshot) Comparison {
	var c Comparison
	names := map[string]bool{}
	for n := range before.Files {
		names[n] = true
	}
	for n := range after.Files {
		names[n] = true
	}
	for _, n := range sortedKeys(names) {
		b, a := before.Files[n], after.Files[n]
		switch {
		case b == nil && before.Unreadable[n] == nil:
			c.Other = append(c.Other, fmt.Sprintf("%s appeared", n))
		case a == nil && after.Unreadable[n] == nil:
			c.Other = append(c.Other, fmt.Sprintf("%s is gone", n))
		case b == nil || a == nil:
			err := before.Unreadable[n]
			if a == nil {
				err = after.Unreadable[n]
			}
			c.Other = append(c.Other, fmt.Sprintf("%s could be read only once, so it was not compared: %v", n, err))
		default:
			for _, ch := range settingsdiff.Diff(b, a).Changes {
				switch ch.Kind {
				case settingsdiff.Changed:
					c.Changed = append(c.Changed, Candidate{File: n, Change: ch})
				case settingsdiff.Added:
					c.Other = append(c.Other, fmt.Sprintf("%s [%s] %s = %q was added", n, ch.Section, ch.Key, ch.After))
				case settingsdiff.Removed:
					c.Other = append(c.Other, fmt.Sprintf("%s [%s] %s = %q was removed", n, ch.Section, ch.Key, ch.Before))
				}
			}
		}
	}
	return c
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ErrNotThere says a key is not in a snapshot.
var ErrNotThere = errors.New("not there")

// Value returns what Windows reads for c's file, section and key in s.
func (s *Snapshot) Value(c Candidate) (string, error) {
	f, ok := s.Files[c.File]
	if !ok {
		if err := s.Unreadable[c.File]; err != nil {
			return "", err
		}
		return "", fmt.Errorf("%s: %w", c.File, ErrNotThere)
	}
	k, err := f.Get(c.Section, c.Key)
	if err != nil {
		return "", err
	}
	return k.Value, nil
}
