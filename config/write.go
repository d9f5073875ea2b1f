package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/officescan-exporter/officescan_exporter/internal/regularfile"
)

// Written says what WriteSetting did.
type Written struct {
	// Path is the file written: the config file, or the file its symbolic
	// link points to.
	Path string
	// Backup holds the file as it was before; empty when the file was new.
	Backup string
	// Replaced: the file mapped the setting already, and that mapping was
	// replaced. Created: there was no file.
	Replaced, Created bool
	// File is the file as loaded back after the write.
	File *File
}

// WriteSetting maps setting name to s in the config file at path, in place:
// only the lines of that setting's entry change (or are added, under the
// one `settings:` key, which is added when there is none), so comments,
// blank lines and every other entry stay as they were. note, when not
// empty, is written as a comment on the entry's first line.
//
// The file is changed only when the result is known to load with exactly
// this change: the new text is parsed first, and refused unless it maps
// name to s and holds everything else the old one held. Then the old file
// is copied to a backup beside it (name.YYYYMMDD-HHMMSS.bak), the new text
// is written to a temporary file in the same folder with the old file's
// permissions, and renamed over the old one, so a reader sees either file
// whole. Last the file is loaded back from disk; should that fail, the old
// content is put back. On any error the file holds what it held before, and
// the error names it.
//
// A file that does not exist is created holding only the mapping.
func WriteSetting(path, name string, s Setting, note string) (Written, error) {
	w := Written{Path: path}
	if !known(name) {
		return w, fmt.Errorf("config file %s: unknown setting %q", path, name)
	}
	real, err := filepath.EvalSymlinks(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		real = path
	case err != nil:
		return w, fmt.Errorf("config file %s: %w", path, err)
	}
	w.Path = real
	old, info, err := regularfile.Read(real, MaxSize)
	mode := fs.FileMode(0o644)
	var was *File
	switch {
	case errors.Is(err, fs.ErrNotExist):
		w.Created = true
		old = nil
		was = &File{Path: path, Settings: map[string]Setting{}}
	case err != nil:
		return w, fmt.Errorf("config file %s: %w", path, err)
	default:
		mode = info.Mode().Perm()
		if was, err = Parse(path, old); err != nil {
			return w, fmt.Errorf("%w (fix the file first: nothing was written)", err)
		}
	}
	_, w.Replaced = was.Settings[name]

	data, err := withSetting(old, name, s, note)
	if err != nil {
		return w, fmt.Errorf("config file %s: %w; nothing was written: add the mapping by hand (docs/collector.settings.md)", path, err)
	}
	now, err := Parse(path, data)
	if err == nil {
		err = changedOnly(was, now, name, s)
	}
	if err != nil {
		return w, fmt.Errorf("config file %s: the file with the new mapping would not load as it should, so nothing was written (please report it, with the file): %w", path, err)
	}

	if !w.Created {
		if w.Backup, err = backup(real, old, mode, info); err != nil {
			return w, fmt.Errorf("config file %s: keeping a copy of it before writing: %w; nothing was written", path, err)
		}
	}
	if err := replace(real, data, mode, info); err != nil {
		return w, fmt.Errorf("config file %s: %w; the file is as it was", path, err)
	}
	w.File, err = loadBack(path)
	if err == nil {
		err = changedOnly(was, w.File, name, s)
	}
	if err != nil {
		if w.Created {
			if rerr := os.Remove(real); rerr != nil {
				return w, fmt.Errorf("config file %s: read back after writing: %w; removing it failed too: %v", path, err, rerr)
			}
			return w, fmt.Errorf("config file %s: read back after writing: %w; the file was removed", path, err)
		}
		if rerr := replace(real, old, mode, info); rerr != nil {
			return w, fmt.Errorf("config file %s: read back after writing: %w; putting the old file back failed too (%v): it is kept in %s", path, err, rerr, w.Backup)
		}
		return w, fmt.Errorf("config file %s: read back after writing: %w; the old file was put back", path, err)
	}
	return w, nil
}

// faultAt, set by tests, fails a step of the write by name.
var faultAt func(step string) error

func fault(step string) error {
	if faultAt == nil {
		return nil
	}
	return faultAt(step)
}

func loadBack(path string) (*File, error) {
	if err := fault("load back"); err != nil {
		return nil, err
	}
	return Load(path)
}

// changedOnly checks that now maps name to s and holds all else was held.
func changedOnly(was, now *File, name string, s Setting) error {
	if got, ok := now.Settings[name]; !ok || !sameSetting(got, s) {
		return fmt.Errorf("settings.%s reads back as %+v, not as written", name, got)
	}
	if was.ServerDir != now.ServerDir {
		return fmt.Errorf("server_dir changed from %q to %q", was.ServerDir, now.ServerDir)
	}
	for other, m := range was.Settings {
		if got, ok := now.Settings[other]; other != name && (!ok || !sameSetting(got, m)) {
			return fmt.Errorf("settings.%s changed", other)
		}
	}
	for other := range now.Settings {
		if _, ok := was.Settings[other]; !ok && other != name {
			return fmt.Errorf("settings.%s appeared", other)
		}
	}
	if !slices.EqualFunc(was.Waivers, now.Waivers, func(a, b Waiver) bool { return a.Hazard == b.Hazard && a.Reason == b.Reason }) {
		return errors.New("the waivers changed")
	}
	if !slices.EqualFunc(was.Flags, now.Flags, func(a, b FlagValue) bool { return a.Name == b.Name && slices.Equal(a.Values, b.Values) }) {
		return errors.New("the flag values changed")
	}
	return nil
}

func sameSetting(a, b Setting) bool {
	trimmed := func(v []string) []string {
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = strings.TrimSpace(s)
		}
		return out
	}
	return a.File == b.File && a.Section == b.Section && a.Key == b.Key &&
		slices.Equal(trimmed(a.EnabledValues), trimmed(b.EnabledValues)) &&
		slices.Equal(trimmed(a.DisabledValues), trimmed(b.DisabledValues))
}

// backup copies the old content beside the file, under a name no other
// file has, with the file's permissions.
func backup(path string, data []byte, mode fs.FileMode, info fs.FileInfo) (string, error) {
	if err := fault("backup"); err != nil {
		return "", err
	}
	stamp := time.Now().Format("20060102-150405")
	for n := 1; n < 100; n++ {
		name := fmt.Sprintf("%s.%s.bak", path, stamp)
		if n > 1 {
			name = fmt.Sprintf("%s.%s-%d.bak", path, stamp, n)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		err = keepPermissions(f, path, mode, info)
		if err == nil {
			_, err = f.Write(data)
		}
		if serr := f.Sync(); err == nil {
			err = serr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return "", err
		}
		return name, nil
	}
	return "", fmt.Errorf("%s.%s.bak and 98 more names are taken", path, stamp)
}

// replace writes data to a temporary file in path's folder, with the old
// file's permissions (info; nil for a new file), and renames it over path.
func replace(path string, data []byte, mode fs.FileMode, info fs.FileInfo) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("creating a temporary file beside it: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	steps := []struct {
		name string
		do   func() error
	}{
		{"write", func() error { _, err := tmp.Write(data); return err }},
		// On disk before the rename: a crash leaves the old file or the
		// new one, never an empty one.
		{"sync", tmp.Sync},
		{"permissions", func() error { return keepPermissions(tmp, path, mode, info) }},
		{"close", tmp.Close},
		{"rename", func() error { return os.Rename(tmp.Name(), path) }},
	}
	for _, s := range steps {
		if err = fault(s.name); err == nil {
			err = s.do()
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", s.name, tmp.Name(), err)
		}
	}
	syncDir(filepath.Dir(path))
	return nil
}

// withSetting returns data with settings.name set to s; see WriteSetting.
func withSetting(data []byte, name string, s Setting, note string) ([]byte, error) {
	bom := []byte("\xEF\xBB\xBF")
	hadBOM := bytes.HasPrefix(data, bom)
	data = bytes.TrimPrefix(data, bom)
	t := newText(data)
	var out []byte
	if len(bytes.TrimSpace(data)) == 0 {
		entry, err := renderEntry(name, s, note, "  ", 2, t.nl)
		if err != nil {
			return nil, err
		}
		out = append(append(append([]byte(nil), data...), "settings:"+t.nl...), entry...)
	} else {
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, err
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			return nil, errors.New("the file is not a mapping")
		}
		var err error
		if out, err = t.setSetting(doc.Content[0], name, s, note); err != nil {
			return nil, err
		}
	}
	if hadBOM {
		out = append(bom, out...)
	}
	return out, nil
}

// text is a file split into lines as YAML splits them.
type text struct {
	data []byte
	// starts[i] is where line i+1 begins, ends[i] where its line break
	// begins; starts has one more element, len(data).
	starts, ends []int
	// nl is the line break to write: the file's first one, or "\n".
	nl string
}

func newText(data []byte) *text {
	t := &text{data: data, nl: "\n"}
	start, first := 0, true
	for i := 0; i < len(data); {
		n := lineBreak(data[i:])
		if n == 0 {
			i++
			continue
		}
		if first {
			// Only CRLF and LF are written; a file of other breaks gets LF.
			if string(data[i:i+n]) == "\r\n" {
				t.nl = "\r\n"
			}
			first = false
		}
		t.starts, t.ends = append(t.starts, start), append(t.ends, i)
		i += n
		start = i
	}
	if start < len(data) {
		t.starts, t.ends = append(t.starts, start), append(t.ends, len(data))
	}
	t.starts = append(t.starts, len(data))
	return t
}

// lineBreak returns the length of the line break b starts with, 0 if none:
// CRLF, LF, CR, NEL, LS and PS, the breaks YAML counts lines by.
func lineBreak(b []byte) int {
	switch {
	case bytes.HasPrefix(b, []byte("\r\n")):
		return 2
	case b[0] == '\n' || b[0] == '\r':
		return 1
	case bytes.HasPrefix(b, []byte("\xC2\x85")):
		return 2
	case bytes.HasPrefix(b, []byte("\xE2\x80\xA8")), bytes.HasPrefix(b, []byte("\xE2\x80\xA9")):
		return 3
	}
	return 0
}

func (t *text) lines() int { return len(t.ends) }

// line returns line n (from 1) without its break.
func (t *text) line(n int) string { return string(t.data[t.starts[n-1]:t.ends[n-1]]) }

// blankOrComment: a line that holds no YAML content.
func (t *text) blankOrComment(n int) bool {
	l := strings.TrimLeft(t.line(n), " \t")
	return l == "" || l[0] == '#'
}

// docEnd returns the last line of the document that begins the file: the
// line before a document marker (--- or ...) after line from, or the last line.
func (t *text) docEnd(from int) int {
	for n := from + 1; n <= t.lines(); n++ {
		l := t.line(n)
		if (strings.HasPrefix(l, "---") || strings.HasPrefix(l, "...")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t') {
			return n - 1
		}
	}
	return t.lines()
}

// lastContent returns the last line from..to that holds content.
func (t *text) lastContent(from, to int) int {
	for to > from && t.blankOrComment(to) {
		to--
	}
	return to
}

// entryEnd returns the last line of the entry whose key is m.Content[i]: the
// line before the next key in the file (limit+1 when it is the last),
// without the comments and blank lines before that key, which are its own.
func (t *text) entryEnd(m *yaml.Node, i, limit int) int {
	next := limit + 1
	if i+2 < len(m.Content) {
		next = m.Content[i+2].Line
	}
	return t.lastContent(m.Content[i].Line, next-1)
}

// splice replaces lines from..to (from > to: none, insert before from) by
// repl.
func (t *text) splice(from, to int, repl []byte) []byte {
	a, b := t.starts[from-1], t.starts[from-1]
	if to >= from {
		b = t.starts[to]
	}
	out := append([]byte(nil), t.data[:a]...)
	out = append(out, repl...)
	return append(out, t.data[b:]...)
}

func (t *text) setSetting(top *yaml.Node, name string, s Setting, note string) ([]byte, error) {
	if top.Style&yaml.FlowStyle != 0 {
		return nil, errors.New("the file is one flow mapping ({...}), which cannot be edited line by line")
	}
	indent := strings.Repeat(" ", top.Content[0].Column-1)
	step := indentStep(top, 2)
	end := t.docEnd(top.Content[len(top.Content)-2].Line)
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Value != "settings" {
			continue
		}
		limit := end
		if i+2 < len(top.Content) {
			limit = top.Content[i+2].Line - 1
		}
		if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 {
			return t.setInBlock(v, name, s, note, limit, indentStep(v, v.Content[0].Column-k.Column))
		}
		if v.Kind != yaml.MappingNode {
			return nil, errors.New("settings is not a mapping")
		}
		// settings: {} or {...} on its line(s): written again as a block.
		block, err := rewriteSettings(k, v, name, s, note, indent, step, t.nl)
		if err != nil {
			return nil, err
		}
		return t.splice(k.Line, t.entryEnd(top, i, end), block), nil
	}
	// No settings key: add one at the end of the document.
	entry, err := renderEntry(name, s, note, indent+strings.Repeat(" ", step), step, t.nl)
	if err != nil {
		return nil, err
	}
	var add []byte
	if end > 0 && t.ends[end-1] == t.starts[end] {
		// The last line has no line break.
		add = append(add, t.nl...)
	}
	if strings.TrimSpace(t.line(end)) != "" {
		add = append(add, t.nl...)
	}
	add = append(add, indent+"settings:"+t.nl...)
	add = append(add, entry...)
	if end == t.lines() {
		return append(append([]byte(nil), t.data...), add...), nil
	}
	return t.splice(end+1, end, add), nil
}

// setInBlock replaces or adds name's entry in a block mapping of settings.
func (t *text) setInBlock(v *yaml.Node, name string, s Setting, note string, limit, step int) ([]byte, error) {
	indent := strings.Repeat(" ", v.Content[0].Column-1)
	entry, err := renderEntry(name, s, note, indent, step, t.nl)
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		if k := v.Content[i]; k.Value == name {
			ind := strings.Repeat(" ", k.Column-1)
			if ind != indent {
				if entry, err = renderEntry(name, s, note, ind, step, t.nl); err != nil {
					return nil, err
				}
			}
			return t.splice(k.Line, t.entryEnd(v, i, limit), entry), nil
		}
	}
	last := t.entryEnd(v, len(v.Content)-2, limit)
	if t.ends[last-1] == t.starts[last] {
		entry = append([]byte(t.nl), entry...)
	}
	return t.splice(last+1, last, entry), nil
}

// rewriteSettings writes the settings key and its mapping in block style,
// with name's entry set, the others as they were.
func rewriteSettings(k, v *yaml.Node, name string, s Setting, note, indent string, step int, nl string) ([]byte, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	found := false
	for i := 0; i+1 < len(v.Content); i += 2 {
		if v.Content[i].Value == name {
			m.Content = append(m.Content, entryNodes(name, s, note)...)
			found = true
			continue
		}
		m.Content = append(m.Content, v.Content[i], v.Content[i+1])
	}
	if !found {
		m.Content = append(m.Content, entryNodes(name, s, note)...)
	}
	key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.Value,
		LineComment: strings.TrimSpace(k.LineComment + " " + v.LineComment)}
	return encode(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{key, m}}, indent, step, nl)
}

// indentStep returns how far the file indents a mapping's values within
// block mapping m: from the first value that is a block mapping, or def.
func indentStep(m *yaml.Node, def int) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 && v.Content[0].Column > k.Column {
			return v.Content[0].Column - k.Column
		}
	}
	return def
}

// renderEntry writes name's entry, indented by indent.
func renderEntry(name string, s Setting, note, indent string, step int, nl string) ([]byte, error) {
	return encode(&yaml.Node{Kind: yaml.MappingNode, Content: entryNodes(name, s, note)}, indent, step, nl)
}

func entryNodes(name string, s Setting, note string) []*yaml.Node {
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	list := func(vs []string) *yaml.Node {
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, v := range vs {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Style: yaml.DoubleQuotedStyle})
		}
		return n
	}
	k := str(name)
	if note != "" {
		k.LineComment = "# " + strings.Join(strings.Fields(note), " ")
	}
	return []*yaml.Node{k, {Kind: yaml.MappingNode, Content: []*yaml.Node{
		str("file"), str(s.File),
		str("section"), str(s.Section),
		str("key"), str(s.Key),
		str("enabled_values"), list(s.EnabledValues),
		str("disabled_values"), list(s.DisabledValues),
	}}}
}

// encode writes n in block style, each line after indent, nested mappings
// step spaces deeper (YAML writers allow 2 to 9).
func encode(n *yaml.Node, indent string, step int, nl string) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(min(max(step, 2), 9))
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	var out []byte
	for _, l := range strings.SplitAfter(b.String(), "\n") {
		if l == "" {
			continue
		}
		out = append(out, indent+strings.TrimSuffix(l, "\n")+nl...)
	}
	return out, nil
}
