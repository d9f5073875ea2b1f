package ini

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
)

// FuzzParse feeds the reader arbitrary bytes. Seeds are in testdata/fuzz/FuzzParse
// (committed, with anything the fuzzer found), plus the ones below.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add(encode(f, UTF16LE, sample))
	f.Add(encode(f, Windows1252, sample))
	f.Add([]byte("[S]\nk=v\n[s]\nK=w\n"))
	f.Add([]byte{0xFF, 0xFE, '[', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.ini", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.ini") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		checkInvariants(t, file)

		// The same text saved as UTF-16 (either byte order) must read the same.
		if data, hasBOM := stripUTF8BOM(data); utf8.Valid(data) && !hasBOM && !startsLikeBOM(data) {
			for _, e := range []unicode.Endianness{unicode.LittleEndian, unicode.BigEndian} {
				wide, err := unicode.UTF16(e, unicode.UseBOM).NewEncoder().Bytes(data)
				if err != nil {
					continue // text the encoder refuses, such as lone surrogates
				}
				other, err := Parse("fuzz.ini", wide)
				if err != nil {
					t.Fatalf("UTF-8 text parsed, its UTF-16 copy failed: %v", err)
				}
				if !reflect.DeepEqual(other.Sections, file.Sections) {
					t.Fatalf("UTF-16 copy reads differently:\n%+v\nvs\n%+v", other.Sections, file.Sections)
				}
			}
		}
	})
}

func checkInvariants(t *testing.T, file *File) {
	t.Helper()
	for _, s := range file.Sections {
		checkName(t, "section", s.Name)
		if strings.Contains(s.Name, "]") {
			t.Fatalf("section name %q holds ']'", s.Name)
		}
		first := file.Section(s.Name)
		if first == nil {
			t.Fatalf("section %q parsed but not found", s.Name)
		}
		for _, k := range s.Keys {
			checkName(t, "key", k.Name)
			if strings.Contains(k.Name, "=") || strings.ContainsAny(k.Value, "\n") {
				t.Fatalf("key %q=%q: '=' in the name or a newline in the value", k.Name, k.Value)
			}
			got, err := file.Get(s.Name, k.Name)
			if first == s {
				// Windows returns the first key of that name in the first section.
				want, _ := s.Key(k.Name)
				if err != nil || got != want {
					t.Fatalf("Get(%q, %q) = %+v, %v; want %+v", s.Name, k.Name, got, err, want)
				}
				if got.Line > k.Line {
					t.Fatalf("Get(%q, %q) returned line %d, a later line than %d", s.Name, k.Name, got.Line, k.Line)
				}
			}
		}
	}
}

func checkName(t *testing.T, what, name string) {
	t.Helper()
	if name != trimBlanks(name) || strings.ContainsAny(name, "\r\n\x00") {
		t.Fatalf("%s name %q keeps blanks or holds a line break", what, name)
	}
}

func stripUTF8BOM(b []byte) ([]byte, bool) {
	return bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF}), bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF})
}

// startsLikeBOM is text whose first character, once in UTF-16, would read as a byte-order mark.
func startsLikeBOM(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\uFEFF")) || bytes.HasPrefix(b, []byte("\uFFFE"))
}
