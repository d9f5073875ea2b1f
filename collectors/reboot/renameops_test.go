package reboot

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecodeMultiSZ(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"empty value", nil, nil},
		{"only the list terminator", []byte{0, 0}, nil},
		{"pairs as Windows writes them", encodeMultiSZ(tmtdiReplacement...), tmtdiReplacement},
		// Generic readers stop at the first empty string and would lose
		// everything after a delete.
		{"delete inside the list", encodeMultiSZ(concat(tmDriverDelete, tmtdiReplacement)...), concat(tmDriverDelete, tmtdiReplacement)},
		{"delete last", encodeMultiSZ(otherVendorDriver[0], otherVendorDriver[1], `\??\C:\x`, ``), []string{otherVendorDriver[0], otherVendorDriver[1], `\??\C:\x`, ``}},
		// 'a' NUL 'b' with no terminators at all: keep the unterminated last string.
		{"missing terminators", []byte{'a', 0, 0, 0, 'b', 0}, []string{"a", "b"}},
		{"non-ASCII path", encodeMultiSZ(`\??\C:\Users\Jörg\Ärger.sys`, ``), []string{`\??\C:\Users\Jörg\Ärger.sys`, ``}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeMultiSZ(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeMultiSZRejectsOddLength(t *testing.T) {
	_, err := DecodeMultiSZ([]byte{'a', 0, 0})
	if err == nil || !strings.Contains(err.Error(), "3 bytes") {
		t.Fatalf("got %v, want an error naming the 3 bytes", err)
	}
}

func TestParseOperations(t *testing.T) {
	got, err := ParseOperations(concat(tmtdiReplacement, tmDriverDelete, []string{`C:\plain\a.txt`, `C:\plain\b.txt`}))
	if err != nil {
		t.Fatal(err)
	}
	want := []Operation{
		{Source: `C:\Windows\system32\drivers\tmtdi.sys.new`, Target: `C:\Windows\system32\drivers\tmtdi.sys`, ReplaceExisting: true},
		{Source: `C:\Windows\system32\drivers\TMEBC64.SYS`, Delete: true},
		{Source: `C:\plain\a.txt`, Target: `C:\plain\b.txt`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseOperationsGarbage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		strs    []string
		want    []Operation
		wantErr string
	}{
		{name: "nothing", strs: nil},
		{name: "empty pair", strs: []string{"", ""}},
		{name: "empty source with a target", strs: []string{"", `\??\C:\x`}},
		{name: "lone prefix", strs: []string{`\??\`, `!`}},
		{
			name:    "odd count keeps the unpaired source",
			strs:    concat(otherVendorDriver, []string{`\??\C:\Windows\system32\drivers\tmtdi.sys`}),
			want:    []Operation{{Source: `C:\Windows\system32\drivers\SysmonDrv.sys.tmp`, Target: `C:\Windows\system32\drivers\SysmonDrv.sys`, ReplaceExisting: true}, {Source: `C:\Windows\system32\drivers\tmtdi.sys`, Unpaired: true}},
			wantErr: "3 strings",
		},
		{name: "single empty string", strs: []string{""}, wantErr: "1 strings"},
		{name: "bang only target is a delete", strs: []string{`\??\C:\a`, `!`}, want: []Operation{{Source: `C:\a`, Delete: true, ReplaceExisting: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOperations(tc.strs)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// FuzzParse: no input may panic the decoder, the parser or the matcher.
func FuzzParse(f *testing.F) {
	f.Add(encodeMultiSZ(concat(tmtdiReplacement, tmDriverDelete)...))
	f.Add([]byte{0xff})
	f.Add(encodeMultiSZ(`\??\UNC\`, `\\?\..\..`, `\\`, `drivers\tm.sys`))
	f.Fuzz(func(t *testing.T, data []byte) {
		strs, err := DecodeMultiSZ(data)
		if err != nil {
			return
		}
		ops, _ := ParseOperations(strs)
		m, _ := NewMatcher(DefaultDriverPatterns)
		_ = m.AddInstallDir(agentDir)
		for _, s := range strs {
			_ = m.AddInstallDir(s)
		}
		for _, op := range ops {
			m.Ours(op)
		}
	})
}
