package share

import (
	"strings"
	"testing"
)

// FuzzMatch: patterns come from flags and paths from other machines'
// sessions; no pattern or path may panic the matcher, and a file outside the
// share's folder is never counted.
func FuzzMatch(f *testing.F) {
	f.Add("AutoPcc*", `C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV\Autopcc.cfg\AutoPcc.exe`, "alice")
	f.Add("Admin/*.ini", `C:\PCCSRV2\AutoPcc.exe`, "")
	f.Add("[", `\\?\C:\PCCSRV\..\..\x`, "BOB")
	f.Fuzz(func(t *testing.T, pattern, path, user string) {
		m, err := NewMatcher([]string{pattern})
		if err != nil {
			return
		}
		const dir = `C:\PCCSRV`
		c := Count([]OpenFile{{Path: path, User: user}}, dir, m)
		if c.LoginScript > 0 && !strings.HasPrefix(strings.ToLower(path), strings.ToLower(dir+`\`)) {
			t.Fatalf("pattern %q counted %q, which is not under %s", pattern, path, dir)
		}
	})
}

// A deep path costs time in proportion to its length, not its square: one
// scrape may meet thousands of open files with paths up to 32,767 characters.
func BenchmarkMatchDeepPath(b *testing.B) {
	m, err := NewMatcher([]string{"Admin/Utility", "AutoPcc*"})
	if err != nil {
		b.Fatal(err)
	}
	deep := `C:\PCCSRV\` + strings.Repeat(`a\`, 16000) + "x.dat"
	b.ReportAllocs()
	for b.Loop() {
		Count([]OpenFile{{Path: deep}}, `C:\PCCSRV`, m)
	}
}
