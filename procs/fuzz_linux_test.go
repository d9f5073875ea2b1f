//go:build linux

package procs

import (
	"bytes"
	"testing"
)

// FuzzParseStat: no /proc/<pid>/stat content may panic the parser, and what
// it accepts keeps comm whole (spaces and parentheses included) and never
// yields negative CPU times.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("4242 (DbServer.exe) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 12345 1000000 100 18446744073709551615"))
	f.Add([]byte("7 (a) b) (c) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"))
	f.Add([]byte("1 (x"))
	f.Add([]byte(")("))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, comm, err := parseStat(b)
		if err != nil {
			return
		}
		if p.User < 0 || p.System < 0 {
			t.Fatalf("parseStat(%q) = %+v", b, p)
		}
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if comm != string(b[open+1:end]) {
			t.Fatalf("parseStat(%q): comm %q, want everything between the first ( and the last )", b, comm)
		}
	})
}
