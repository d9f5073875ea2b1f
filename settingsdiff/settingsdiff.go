// Package settingsdiff finds the ini key behind a console option: the admin
// saves a copy of Ofcscan.ini, toggles one option in the console, and
// compares the two files. The key that changed is the option's key, and
// Mapping turns it into a mapping for the config file (ConfigBlock prints
// it; config.WriteSetting writes it into the file in place).
//
// Files are compared as Windows reads them (see package ini): names ignore
// case, and only the first of a repeated section or key counts. Repeats are
// reported as notes, since a value there is never read.
package settingsdiff

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/ini"
)

// Kind is what happened to a key.
type Kind int

// Kinds of change, in the order they are printed within a section.
const (
	Changed Kind = iota
	Added
	Removed
)

var marks = map[Kind]string{Changed: "~", Added: "+", Removed: "-"}

// Change is one key that differs.
type Change struct {
	Kind Kind
	// Section and Key are spelled as in AFTER, or in BEFORE for a removal.
	Section, Key          string
	Before, After         string
	BeforeLine, AfterLine int
}

// Result is a comparison of two files.
type Result struct {
	Before, After *ini.File
	Changes       []Change
	// Notes name repeated sections and keys, which Windows never reads.
	Notes []string
}

// Diff compares before and after, by section in AFTER's order (then the
// sections only BEFORE has), and by key in file order within each.
func Diff(before, after *ini.File) Result {
	r := Result{Before: before, After: after}
	bs, bnotes := effective(before)
	as, anotes := effective(after)
	r.Notes = append(bnotes, anotes...)
	for _, a := range as {
		b := before.Section(a.Name)
		for _, k := range a.Keys {
			if b == nil {
				r.Changes = append(r.Changes, Change{Kind: Added, Section: a.Name, Key: k.Name, After: k.Value, AfterLine: k.Line})
				continue
			}
			if bk, ok := b.Key(k.Name); !ok {
				r.Changes = append(r.Changes, Change{Kind: Added, Section: a.Name, Key: k.Name, After: k.Value, AfterLine: k.Line})
			} else if bk.Value != k.Value {
				r.Changes = append(r.Changes, Change{Kind: Changed, Section: a.Name, Key: k.Name, Before: bk.Value, After: k.Value, BeforeLine: bk.Line, AfterLine: k.Line})
			}
		}
		if b != nil {
			for _, k := range b.Keys {
				if _, ok := a.Key(k.Name); !ok && isFirst(b, k) {
					r.Changes = append(r.Changes, Change{Kind: Removed, Section: a.Name, Key: k.Name, Before: k.Value, BeforeLine: k.Line})
				}
			}
		}
	}
	for _, b := range bs {
		if after.Section(b.Name) == nil {
			for _, k := range b.Keys {
				r.Changes = append(r.Changes, Change{Kind: Removed, Section: b.Name, Key: k.Name, Before: k.Value, BeforeLine: k.Line})
			}
		}
	}
	return r
}

// effective returns the sections Windows reads, each with only the keys it
// reads, and a note for everything it skips.
func effective(f *ini.File) ([]*ini.Section, []string) {
	var out []*ini.Section
	var notes []string
	for _, s := range f.Sections {
		if first := f.Section(s.Name); first != s {
			notes = append(notes, fmt.Sprintf("%s:%d: section [%s] appears again; Windows reads only the first one (line %d)", f.Name, s.Line, s.Name, first.Line))
			continue
		}
		e := &ini.Section{Name: s.Name, Line: s.Line}
		for _, k := range s.Keys {
			if !isFirst(s, k) {
				first, _ := s.Key(k.Name)
				notes = append(notes, fmt.Sprintf("%s:%d: key %s in [%s] appears again; Windows reads only the first one (line %d)", f.Name, k.Line, k.Name, s.Name, first.Line))
				continue
			}
			e.Keys = append(e.Keys, k)
		}
		out = append(out, e)
	}
	return out, notes
}

func isFirst(s *ini.Section, k ini.Key) bool {
	first, _ := s.Key(k.Name)
	return first.Line == k.Line
}

// Count returns how many changes there are of each kind.
func (r Result) Count(k Kind) int {
	n := 0
	for _, c := range r.Changes {
		if c.Kind == k {
			n++
		}
	}
	return n
}

// Write prints the comparison, grouped by section.
func (r Result) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s (%s)\n+++ %s (%s)\n", r.Before.Name, r.Before.Encoding, r.After.Name, r.After.Encoding)
	section := "\x00"
	for _, c := range r.Changes {
		if !strings.EqualFold(c.Section, section) {
			section = c.Section
			fmt.Fprintf(&b, "[%s]\n", c.Section)
		}
		switch c.Kind {
		case Changed:
			fmt.Fprintf(&b, "%s %s: %q -> %q (line %d -> %d)\n", marks[c.Kind], c.Key, c.Before, c.After, c.BeforeLine, c.AfterLine)
		case Added:
			fmt.Fprintf(&b, "%s %s = %q (line %d)\n", marks[c.Kind], c.Key, c.After, c.AfterLine)
		case Removed:
			fmt.Fprintf(&b, "%s %s = %q (line %d)\n", marks[c.Kind], c.Key, c.Before, c.BeforeLine)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	fmt.Fprintf(&b, "%d changed, %d added, %d removed\n", r.Count(Changed), r.Count(Added), r.Count(Removed))
	_, err := io.WriteString(w, b.String())
	return err
}

// Toggled returns the one key whose value changed, the result of toggling
// one console option. Anything else is an error that says what to do.
func (r Result) Toggled() (Change, error) {
	var changed []Change
	for _, c := range r.Changes {
		if c.Kind == Changed {
			changed = append(changed, c)
		}
	}
	switch {
	case len(changed) == 1:
		return changed[0], nil
	case len(changed) > 1:
		var keys []string
		for _, c := range changed {
			keys = append(keys, fmt.Sprintf("[%s] %s", c.Section, c.Key))
		}
		return Change{}, fmt.Errorf("%d keys changed value (%s): toggle only one console option between the two copies", len(changed), strings.Join(keys, ", "))
	case len(r.Changes) > 0:
		// Keys only added or removed: a missing key reads as unknown, so
		// such a key cannot tell both states apart.
		return Change{}, fmt.Errorf("no key changed value, %d were added and %d removed: toggle the option back and compare again, so that the key is in both copies", r.Count(Added), r.Count(Removed))
	default:
		return Change{}, fmt.Errorf("the files hold the same values: was the console option saved before the second copy was taken?")
	}
}

// BlockOptions say how to write a mapping.
type BlockOptions struct {
	// Setting is one of hazard.SettingNames().
	Setting string
	// File is the mapping's file, relative to the server folder
	// (Ofcscan.ini): the compared copies live elsewhere.
	File string
	// EnabledInBefore says the option was on in BEFORE and off in AFTER.
	EnabledInBefore bool
}

// Mapping turns c into the config file's mapping for one setting.
func Mapping(c Change, opts BlockOptions) (config.Setting, error) {
	if c.Kind != Changed {
		return config.Setting{}, fmt.Errorf("[%s] %s was not changed in both files", c.Section, c.Key)
	}
	if strings.EqualFold(c.Before, c.After) {
		// Values are matched ignoring case, so these read the same.
		return config.Setting{}, fmt.Errorf("[%s] %s changed only in letter case (%q -> %q), which cannot tell enabled from disabled", c.Section, c.Key, c.Before, c.After)
	}
	enabled, disabled := c.After, c.Before
	if opts.EnabledInBefore {
		enabled, disabled = disabled, enabled
	}
	return config.Setting{File: opts.File, Section: c.Section, Key: c.Key,
		EnabledValues: []string{enabled}, DisabledValues: []string{disabled}}, nil
}

// Note says where a mapping came from, for a comment beside it.
func Note(c Change, how string) string {
	return fmt.Sprintf("%s: [%s] %s changed %q -> %q", how, c.Section, c.Key, c.Before, c.After)
}

// ConfigBlock writes c as a config file holding the mapping for one setting.
func ConfigBlock(c Change, opts BlockOptions) ([]byte, error) {
	m, err := Mapping(c, opts)
	if err != nil {
		return nil, err
	}
	type entry struct {
		File           string   `yaml:"file"`
		Section        string   `yaml:"section"`
		Key            string   `yaml:"key"`
		EnabledValues  []string `yaml:"enabled_values,flow"`
		DisabledValues []string `yaml:"disabled_values,flow"`
	}
	doc := struct {
		Settings map[string]entry `yaml:"settings"`
	}{map[string]entry{opts.Setting: {m.File, m.Section, m.Key, m.EnabledValues, m.DisabledValues}}}
	var out bytes.Buffer
	fmt.Fprintf(&out, "# %s: [%s] %s changed %q -> %q between the two copies.\n", opts.Setting, c.Section, c.Key, c.Before, c.After)
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("writing the mapping: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing the mapping: %w", err)
	}
	return out.Bytes(), nil
}
