package share

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/prometheus/common/promslog"
	"golang.org/x/sys/windows"
)

// underWine reports whether this Windows is Wine, whose ntdll exports its version.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// TestRealNetFileEnum runs the collector against the real API. Wine has no
// SMB server, so there it must fail, saying so, and send no zero; on Windows
// it either works or, without administrator rights, says what to do.
func TestRealNetFileEnum(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		wineSays string
	}{
		// The folder need not exist: NetFileEnum only compares path prefixes.
		{[]string{"--collector.share.path", `C:\officescan-exporter-test\PCCSRV`}, "NetFileEnum: not supported by this system (Wine?)"},
		// Wine's NetShareGetInfo answers, but Wine exports no shares.
		{nil, `NetShareGetInfo: no share named "ofcscan"`},
	} {
		c, err := Spec(func() *Options { o := parseFlags(t, tc.args...); return &o }()).New(context.Background(), promslog.NewNopLogger())
		if err != nil {
			t.Fatal(err)
		}
		got, err := update(c.(*Collector))
		t.Logf("flags %q: metrics %v, error: %v", tc.args, got, err)
		switch {
		case underWine():
			if err == nil || len(got) != 0 {
				t.Errorf("under Wine, flags %q: Update = %v with %v, want a failure and no samples", tc.args, err, got)
			} else if !strings.Contains(err.Error(), tc.wineSays) {
				t.Errorf("under Wine, flags %q: error %q does not say %q", tc.args, err, tc.wineSays)
			}
		case err != nil && !strings.Contains(err.Error(), "administrator") && tc.args != nil:
			t.Errorf("flags %q: %v", tc.args, err)
		}
	}
}

func TestDecodeFileInfo3(t *testing.T) {
	u := func(s string) *uint16 { p, _ := windows.UTF16PtrFromString(s); return p }
	rows := []fileInfo3{
		{ID: 7, Permissions: 1, NumLocks: 0, PathName: u(`C:\PCCSRV\AutoPcc.exe`), UserName: u("alice")},
		{ID: 8, Permissions: 35, NumLocks: 2, PathName: u(`C:\PCCSRV\Autopcc.cfg\é.ini`), UserName: nil},
	}
	got := decodeFileInfo3((*byte)(unsafe.Pointer(&rows[0])), uint32(len(rows)))
	want := []OpenFile{
		{ID: 7, Permissions: 1, Path: `C:\PCCSRV\AutoPcc.exe`, User: "alice"},
		{ID: 8, Permissions: 35, Locks: 2, Path: `C:\PCCSRV\Autopcc.cfg\é.ini`},
	}
	if len(got) != len(want) {
		t.Fatalf("decoded %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if decodeFileInfo3(nil, 3) != nil {
		t.Error("a nil buffer decoded to rows")
	}
}

func TestNetErrorSaysWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		status uintptr
		want   string
		is     error
	}{
		{uintptr(windows.ERROR_ACCESS_DENIED), "run the exporter as an administrator or as LocalSystem", windows.ERROR_ACCESS_DENIED},
		{uintptr(windows.ERROR_NOT_SUPPORTED), "not supported by this system (Wine?)", windows.ERROR_NOT_SUPPORTED},
		{uintptr(windows.ERROR_INVALID_LEVEL), "NetFileEnum: ", syscall.Errno(windows.ERROR_INVALID_LEVEL)},
	} {
		err := netError("NetFileEnum", tc.status)
		if !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
			t.Errorf("netError(%d) = %q, want it to contain %q and wrap %v", tc.status, err, tc.want, tc.is)
		}
	}
}
