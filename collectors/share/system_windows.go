package share

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Supported reports whether this OS can list a share's open files.
const Supported = true

// golang.org/x/sys/windows wraps neither call, so they are bound here.
var (
	netapi32            = windows.NewLazySystemDLL("netapi32.dll")
	procNetShareGetInfo = netapi32.NewProc("NetShareGetInfo")
	procNetFileEnum     = netapi32.NewProc("NetFileEnum")
)

const (
	maxPreferredLength = 0xFFFFFFFF // MAX_PREFERRED_LENGTH: let the API size the buffer
	// nerrNetNameNotFound is NERR_NetNameNotFound; FormatMessage has no text
	// for NERR codes, so it gets its own message.
	nerrNetNameNotFound = 2310
)

// shareInfo2 is SHARE_INFO_2.
type shareInfo2 struct {
	NetName     *uint16
	Type        uint32
	Remark      *uint16
	Permissions uint32
	MaxUses     uint32
	CurrentUses uint32
	Path        *uint16
	Passwd      *uint16
}

// fileInfo3 is FILE_INFO_3.
type fileInfo3 struct {
	ID          uint32
	Permissions uint32
	NumLocks    uint32
	PathName    *uint16
	UserName    *uint16
}

type netapi struct{}

func newSystem() (system, error) { return netapi{}, nil }

// SharePath reads SHARE_INFO_2's path; level 2 needs administrator rights.
func (netapi) SharePath(name string) (string, error) {
	if err := procNetShareGetInfo.Find(); err != nil {
		return "", err
	}
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return "", err
	}
	var buf *byte
	r, _, _ := procNetShareGetInfo.Call(0, uintptr(unsafe.Pointer(n)), 2, uintptr(unsafe.Pointer(&buf)))
	if buf != nil {
		defer windows.NetApiBufferFree(buf)
	}
	if r == nerrNetNameNotFound {
		return "", fmt.Errorf("NetShareGetInfo: no share named %q on this machine (is this the OfficeScan server?)", name)
	}
	if r != 0 {
		return "", netError("NetShareGetInfo", r)
	}
	p := windows.UTF16PtrToString((*shareInfo2)(unsafe.Pointer(buf)).Path)
	if p == "" {
		return "", fmt.Errorf("NetShareGetInfo: share %q has no local folder", name)
	}
	return p, nil
}

// OpenFiles pages through NetFileEnum level 3 with dir as the base path.
func (netapi) OpenFiles(dir string) ([]OpenFile, error) {
	if err := procNetFileEnum.Find(); err != nil {
		return nil, err
	}
	base, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return nil, err
	}
	var (
		files  []OpenFile
		resume uintptr // DWORD_PTR
	)
	for {
		var (
			buf         *byte
			read, total uint32
		)
		r, _, _ := procNetFileEnum.Call(0, uintptr(unsafe.Pointer(base)), 0, 3,
			uintptr(unsafe.Pointer(&buf)), maxPreferredLength,
			uintptr(unsafe.Pointer(&read)), uintptr(unsafe.Pointer(&total)), uintptr(unsafe.Pointer(&resume)))
		if buf != nil {
			files = append(files, decodeFileInfo3(buf, read)...)
			windows.NetApiBufferFree(buf)
		}
		switch {
		case r == 0:
			return files, nil
		case r != uintptr(windows.ERROR_MORE_DATA):
			return nil, netError("NetFileEnum", r)
		case read == 0:
			return nil, errors.New("NetFileEnum: reported more data but returned none")
		}
	}
}

// decodeFileInfo3 copies n FILE_INFO_3 rows out of a NetApi buffer.
func decodeFileInfo3(buf *byte, n uint32) []OpenFile {
	if buf == nil || n == 0 {
		return nil
	}
	rows := unsafe.Slice((*fileInfo3)(unsafe.Pointer(buf)), n)
	out := make([]OpenFile, len(rows))
	for i, r := range rows {
		out[i] = OpenFile{
			ID:          r.ID,
			Permissions: r.Permissions,
			Locks:       r.NumLocks,
			Path:        windows.UTF16PtrToString(r.PathName),
			User:        windows.UTF16PtrToString(r.UserName),
		}
	}
	return out
}

// netError turns a NET_API_STATUS into an error that says what to do.
func netError(op string, status uintptr) error {
	errno := syscall.Errno(status)
	switch errno {
	case windows.ERROR_ACCESS_DENIED:
		return fmt.Errorf("%s: access denied: run the exporter as an administrator or as LocalSystem (the service default): %w", op, errno)
	case windows.ERROR_NOT_SUPPORTED:
		return fmt.Errorf("%s: not supported by this system (Wine?): %w", op, errno)
	}
	return fmt.Errorf("%s: %w", op, errno)
}
