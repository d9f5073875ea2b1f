package ini

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

// encode returns text as a file in enc would hold it.
func encode(t testing.TB, enc Encoding, text string) []byte {
	t.Helper()
	var (
		out []byte
		err error
	)
	switch enc {
	case UTF16LE:
		out, err = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(text))
	case UTF16BE:
		out, err = unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(text))
	case UTF8BOM:
		out = append([]byte{0xEF, 0xBB, 0xBF}, text...)
	case UTF8:
		out = []byte(text)
	case Windows1252:
		out, err = charmap.Windows1252.NewEncoder().Bytes([]byte(text))
	default:
		t.Fatalf("unknown encoding %q", enc)
	}
	if err != nil {
		t.Fatalf("encoding %s: %v", enc, err)
	}
	return out
}

// sample has every quirk the reader must handle. The key names are made up:
// the real Ofcscan.ini key names behind the console options are not public.
const sample = "; Example file: the key names are invented\r\n" +
	"[Example Section]\r\n" +
	"ExampleFlag=1\r\n" +
	"  Spaced Key   =   spaced value  \r\n" +
	"\tTabbed=\tx\t\r\n" +
	"Quoted=\"  kept inside  \"\r\n" +
	"Single='one'\r\n" +
	"Mismatched=\"two'\r\n" +
	"WithSemicolon=a;b ; not a comment\r\n" +
	"Empty=\r\n" +
	"Equals=a=b\r\n" +
	"ExampleFlag=2\r\n" +
	"; ExampleFlag=3\r\n" +
	"   ; indented comment\r\n" +
	"line without equals sign\r\n" +
	"Café=Crème brûlée €\r\n" +
	"\r\n" +
	"  [ Second ]  trailing text\r\n" +
	"key=second\r\n" +
	"[example section]\r\n" +
	"ExampleFlag=4\r\n" +
	"OnlyInDuplicate=5\r\n" +
	"[Unclosed\r\n" +
	"k=v\r\n" +
	"[]\r\n" +
	"nameless=yes"

func TestParseEveryEncodingAndQuirk(t *testing.T) {
	lookups := []struct {
		section, key string
		want         string
		err          error
	}{
		{"Example Section", "ExampleFlag", "1", nil},           // first duplicate wins
		{"EXAMPLE SECTION", "exampleflag", "1", nil},           // names ignore case
		{"  Example Section ", " ExampleFlag\t", "1", nil},     // blanks around the asked names go
		{"Example Section", "Spaced Key", "spaced value", nil}, // blanks around '=' and the value go
		{"Example Section", "Tabbed", "x", nil},
		{"Example Section", "Quoted", "  kept inside  ", nil}, // outer quotes go, inner blanks stay
		{"Example Section", "Single", "one", nil},
		{"Example Section", "Mismatched", "\"two'", nil},
		{"Example Section", "WithSemicolon", "a;b ; not a comment", nil}, // ';' inside a value is data
		{"Example Section", "Empty", "", nil},
		{"Example Section", "Equals", "a=b", nil},
		{"Example Section", "café", "Crème brûlée €", nil}, // non-ASCII in every encoding
		{"Example Section", "line without equals sign", "", ErrNoKey},
		{"Example Section", "OnlyInDuplicate", "", ErrNoKey}, // a repeated section is never searched
		{"Second", "key", "second", nil},
		{"Unclosed", "k", "v", nil},
		{"", "nameless", "yes", nil},
		{"Missing", "k", "", ErrNoSection},
	}
	for _, enc := range []Encoding{UTF16LE, UTF16BE, UTF8BOM, UTF8, Windows1252} {
		for _, eol := range []string{"\r\n", "\n"} {
			text := strings.ReplaceAll(sample, "\r\n", eol)
			t.Run(string(enc)+"/"+map[string]string{"\r\n": "CRLF", "\n": "LF"}[eol], func(t *testing.T) {
				f, err := Parse("Ofcscan.ini", encode(t, enc, text))
				if err != nil {
					t.Fatal(err)
				}
				if f.Encoding != enc {
					t.Errorf("encoding detected as %q, want %q", f.Encoding, enc)
				}
				for _, l := range lookups {
					k, err := f.Get(l.section, l.key)
					if !errors.Is(err, l.err) {
						t.Errorf("Get(%q, %q) error = %v, want %v", l.section, l.key, err, l.err)
						continue
					}
					if err == nil && k.Value != l.want {
						t.Errorf("Get(%q, %q) = %q, want %q", l.section, l.key, k.Value, l.want)
					}
				}
				if got := len(f.Sections); got != 5 {
					t.Errorf("%d sections, want 5 (duplicates kept in Sections)", got)
				}
				k, _ := f.Get("Second", "key")
				if k.Line != 19 {
					t.Errorf("Second/key on line %d, want 19", k.Line)
				}
			})
		}
	}
}

func TestKeysBeforeAnySectionAndLookupErrorsNameEverything(t *testing.T) {
	f, err := Parse(`C:\PCCSRV\Ofcscan.ini`, []byte("Top=1\n[S]\nA=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if k, err := f.Get("", "Top"); err != nil || k.Value != "1" {
		t.Fatalf("key before any section: %+v, %v", k, err)
	}
	_, err = f.Get("S", "NoSuchKey")
	for _, want := range []string{`C:\PCCSRV\Ofcscan.ini`, "[S]", "NoSuchKey", "line 2"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %q", err, want)
		}
	}
	_, err = f.Get("Nowhere", "A")
	if err == nil || !strings.Contains(err.Error(), "[Nowhere]") || !strings.Contains(err.Error(), "Ofcscan.ini") {
		t.Errorf("error %v does not name file and section", err)
	}
}

func TestDecodeFallsBackToWindows1252OnlyWhenNotUTF8(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want string
		enc  Encoding
	}{
		{[]byte("a=\xe9"), "a=é", Windows1252}, // 0xE9 alone is not UTF-8
		{[]byte("a=\xc3\xa9"), "a=é", UTF8},    // valid UTF-8 is never re-read as ANSI
		{[]byte("a=\x80"), "a=€", Windows1252}, // 0x80 is € in 1252, not Latin-1's control
		{[]byte{0xFF, 0xFE, 'a', 0, '=', 0, 0xAC, 0x20}, "a=€", UTF16LE},
		{[]byte{0xFE, 0xFF, 0, 'a', 0, '=', 0x20, 0xAC}, "a=€", UTF16BE},
		{[]byte{0xEF, 0xBB, 0xBF, 'a'}, "a", UTF8BOM},
		{nil, "", UTF8},
	} {
		got, enc, err := Decode(tc.in)
		if err != nil || got != tc.want || enc != tc.enc {
			t.Errorf("Decode(% x) = %q, %q, %v; want %q, %q", tc.in, got, enc, err, tc.want, tc.enc)
		}
	}
}

func TestNULIsRefusedWithFileAndLine(t *testing.T) {
	// UTF-16LE without its byte-order mark: every other byte is NUL.
	data := encode(t, UTF16LE, "[S]\r\nA=1\r\n")[2:]
	_, err := Parse("x.ini", data)
	if err == nil || !strings.Contains(err.Error(), "x.ini:1") || !strings.Contains(err.Error(), "NUL") {
		t.Fatalf("error = %v, want one naming x.ini:1 and the NUL", err)
	}
}

func TestReadFileReadsFromDisk(t *testing.T) {
	path := filepath.Join(testdir.New(t), "Ofcscan.ini")
	if err := os.WriteFile(path, encode(t, UTF16LE, "[S]\r\nExampleKey=1\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := f.Get("s", "examplekey"); err != nil || k.Value != "1" || f.Name != path {
		t.Fatalf("got %+v, %v from %s", k, err, f.Name)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := testdir.New(t)
	big := filepath.Join(dir, "big.ini")
	data := bytes.Repeat([]byte("[S]\nk=v\n"), MaxSize/8+1)
	if err := os.WriteFile(big, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		path string
		want []string
	}{
		"oversized": {big, []string{big, "larger than", "16777216"}},
		"missing":   {filepath.Join(dir, "none.ini"), []string{"none.ini"}},
		"directory": {dir, []string{dir, "not a regular file"}},
	} {
		_, err := ReadFile(tc.path)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v does not contain %q", name, err, w)
			}
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "none.ini")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file error %v does not wrap os.ErrNotExist", err)
	}
}

func TestRandomBytesAreRefused(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	if _, err := Parse("garbage.ini", data); err == nil {
		t.Fatal("3 MB of random bytes parsed as an ini file")
	}
}

// TestReadFileNeverSeesAHalfWrittenFile rewrites a file in place, truncating
// it and writing it again in pieces, the value last and one byte at a time,
// while the test reads it. Each read must fail or see one whole version:
// never a value cut short.
func TestReadFileNeverSeesAHalfWrittenFile(t *testing.T) {
	path := filepath.Join(testdir.New(t), "Ofcscan.ini")
	head := encode(t, UTF16LE, "[S]\r\n"+strings.Repeat("; padding line\r\n", 2000)+"ExampleKey=")
	const valueLen = 40
	write := func(v string) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if _, err := f.Write(head); err != nil {
			t.Error(err)
			return
		}
		tail, _ := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().Bytes([]byte(strings.Repeat(v, valueLen) + "\r\n"))
		for i := range tail {
			if _, err := f.Write(tail[i : i+1]); err != nil {
				t.Error(err)
				return
			}
		}
	}
	write("0")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 15 {
			write([]string{"1", "0"}[i%2])
			// Left alone long enough to be read, as a saved file is.
			time.Sleep(200 * time.Millisecond)
		}
	}()
	reads, good := 0, 0
	for {
		select {
		case <-done:
			t.Logf("%d reads, %d found the key", reads, good)
			if good == 0 {
				t.Fatal("no read found the key")
			}
			return
		default:
		}
		reads++
		f, err := ReadFile(path)
		if err != nil {
			continue
		}
		k, err := f.Get("S", "ExampleKey")
		if err != nil {
			continue // cut before the key: unknown, never wrong
		}
		if len(k.Value) != valueLen || strings.Count(k.Value, k.Value[:1]) != valueLen {
			t.Fatalf("read a half-written value %q", k.Value)
		}
		good++
	}
}
