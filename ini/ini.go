// Package ini reads Windows .ini files the way the Windows profile API
// (GetPrivateProfileString) reads them, whatever encoding the file was saved in.
//
// Windows tools save ini files as UTF-16LE with a byte-order mark, as ANSI
// (Windows-1252 on Western systems), or as UTF-8 with or without a mark.
// Parse decodes each to UTF-8 before it looks at a single line, so no rule
// below depends on the encoding.
//
// The parsing rules follow the behaviour of GetPrivateProfileString as
// measured on Windows by the IniFileFormatReverseEngineering project
// (github.com/WelliSolutions/IniFileFormatReverseEngineering,
// documentation/GetPrivateProfileString.md):
//
//   - section and key names match ignoring case; values keep their case;
//   - a line whose first non-blank character is ';' is a comment; a ';'
//     later in a line is part of the value;
//   - blanks around names, around '=' and around values are dropped;
//   - one pair of matching outer quotes ('…' or "…") around a value is dropped;
//   - a section name ends at the first ']' (or at the end of the line when the
//     ']' is missing);
//   - when a key appears twice in a section, the FIRST one wins; when a
//     section appears twice, only the first one is searched.
//
// Choices of our own, where Windows gives no useful answer: keys before the
// first section header belong to the section named "" (as "[]" does); a line
// with neither '[' nor '=' is ignored; a NUL character anywhere is an error,
// since no text ini file holds one (it is usually UTF-16 without a
// byte-order mark, or not an ini file at all).
package ini

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/officescan-exporter/officescan_exporter/internal/regularfile"
)

// MaxSize caps the files ReadFile accepts. Ofcscan.ini is a few hundred
// kilobytes; anything this large is not a settings file, and reading it at
// every scrape would cost memory for nothing.
const MaxSize = 16 << 20

// Encoding names how a file was stored.
type Encoding string

// The encodings Parse recognises.
const (
	UTF16LE     Encoding = "UTF-16LE"
	UTF16BE     Encoding = "UTF-16BE"
	UTF8BOM     Encoding = "UTF-8 with BOM"
	UTF8        Encoding = "UTF-8"
	Windows1252 Encoding = "Windows-1252"
)

// File is a parsed ini file. Sections keeps every section in file order,
// duplicates included, so a tool can show what the file holds; Section and
// Get apply the Windows lookup rules.
type File struct {
	// Name is the file's path, for messages.
	Name     string
	Encoding Encoding
	Sections []*Section
}

// Section is one "[name]" block.
type Section struct {
	Name string
	// Line is where the header is, 0 for keys before any header.
	Line int
	Keys []Key
}

// Key is one "name=value" line.
type Key struct {
	Name  string
	Value string
	Line  int
}

// Lookup errors; Get wraps them with the file and names involved.
var (
	ErrNoSection = errors.New("no such section")
	ErrNoKey     = errors.New("no such key")
)

// Section returns the first section named name, ignoring case, or nil.
func (f *File) Section(name string) *Section {
	name = trimBlanks(name)
	for _, s := range f.Sections {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// Key returns the first key named name, ignoring case.
func (s *Section) Key(name string) (Key, bool) {
	name = trimBlanks(name)
	for _, k := range s.Keys {
		if strings.EqualFold(k.Name, name) {
			return k, true
		}
	}
	return Key{}, false
}

// Get returns the value Windows would read for key in section.
func (f *File) Get(section, key string) (Key, error) {
	s := f.Section(section)
	if s == nil {
		return Key{}, fmt.Errorf("%s: section [%s]: %w", f.Name, section, ErrNoSection)
	}
	k, ok := s.Key(key)
	if !ok {
		return Key{}, fmt.Errorf("%s: section [%s] (line %d): key %q: %w", f.Name, s.Name, s.Line, key, ErrNoKey)
	}
	return k, nil
}

// ReadFile reads and parses the file at path.
//
// A file being rewritten must never yield a value cut in half, so the file
// is read only once it has settled: when it was modified less than Settle
// ago, ReadFile waits first, and when its size or modification time moves
// while it is read, it reads it again. The whole file is read in one go and
// parsed from that buffer. What no reader can see is a writer that stops for
// longer than Settle in the middle of a file; the caller's check of the value
// against the known values is the backstop for that.
func ReadFile(path string) (*File, error) {
	data, err := readSettled(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Settle is how long a file must have been left alone before it is read.
// Editors and the profile API write an ini file in well under this.
const Settle = 100 * time.Millisecond

// settleAttempts bounds the wait for a file that keeps changing.
const settleAttempts = 10

func readSettled(path string) ([]byte, error) {
	for range settleAttempts {
		data, mod, err := readOnce(path)
		if err != nil {
			return nil, err
		}
		// A modification time in the future (a clock skewed against a
		// file server) cannot tell how recent the write is: take the file.
		if age := time.Since(mod); data != nil && (age >= Settle || age < 0) {
			return data, nil
		}
		time.Sleep(Settle - max(time.Since(mod), 0))
	}
	return nil, fmt.Errorf("reading %s: the file kept changing for %s", path, settleAttempts*Settle)
}

// readOnce reads the whole file and returns its modification time; data is
// nil when the file changed during the read.
func readOnce(path string) (data []byte, mod time.Time, err error) {
	data, before, err := regularfile.Read(path, MaxSize)
	if err != nil {
		return nil, mod, readErr(path, err)
	}
	mod = before.ModTime()
	after, err := os.Stat(path)
	if err != nil || int64(len(data)) != before.Size() || after.Size() != before.Size() || !after.ModTime().Equal(mod) {
		// Written to, or replaced by a rename, while we read: the caller
		// waits and reads again.
		return nil, time.Now(), nil
	}
	return data, mod, nil
}

// readErr names path once: an *fs.PathError already holds it, with the
// operation ("open") in front, which reads badly after "reading".
func readErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("reading %s: %w", path, err)
}

// Parse decodes and parses data, the content of the file named name.
func Parse(name string, data []byte) (*File, error) {
	text, enc, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f := &File{Name: name, Encoding: enc}
	var cur *Section
	// CRLF, LF and a lone CR each end a line.
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		if strings.IndexByte(line, 0) >= 0 {
			return nil, fmt.Errorf("%s:%d: NUL character in a %s file: not a text ini file (UTF-16 without a byte-order mark?)", name, n, enc)
		}
		line = trimBlanks(line)
		switch {
		case line == "" || line[0] == ';':
		case line[0] == '[':
			sec, _, _ := strings.Cut(line[1:], "]")
			cur = &Section{Name: trimBlanks(sec), Line: n}
			f.Sections = append(f.Sections, cur)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			if cur == nil {
				cur = &Section{}
				f.Sections = append(f.Sections, cur)
			}
			cur.Keys = append(cur.Keys, Key{Name: trimBlanks(k), Value: unquote(trimBlanks(v)), Line: n})
		}
	}
	return f, nil
}

// Decode converts data to UTF-8 and says which encoding it was in: the
// byte-order mark decides when there is one; otherwise valid UTF-8 is UTF-8
// and anything else is read as Windows-1252 (ANSI), as Notepad does.
func Decode(data []byte) (string, Encoding, error) {
	var enc Encoding
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		enc = UTF8BOM
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		enc = UTF16LE
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		enc = UTF16BE
	case utf8.Valid(data):
		// Pure ASCII lands here too, and means the same in every encoding.
		return string(data), UTF8, nil
	default:
		enc = Windows1252
	}
	// BOMOverride drops the mark and picks the decoder from it; the fallback
	// only runs when there is no mark.
	out, _, err := transform.Bytes(unicode.BOMOverride(charmap.Windows1252.NewDecoder()), data)
	if err != nil {
		return "", enc, fmt.Errorf("decoding %s: %w", enc, err)
	}
	return string(out), enc, nil
}

// trimBlanks drops what Windows drops around names and values: spaces,
// tabs and vertical tabs.
func trimBlanks(s string) string { return strings.Trim(s, " \t\v") }

// unquote drops one pair of matching outer quotes, as Windows does.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
