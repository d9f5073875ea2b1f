//go:build windows

package procs

import (
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Supported reports whether this OS has a process source.
const Supported = true

const (
	// initialBuffer fits a server with a few hundred processes and a few
	// thousand threads (each process entry is followed by its threads'), so
	// the usual first call needs no retry.
	initialBuffer = 512 << 10
	// bufferHeadroom is added to the size the kernel asks for: processes and
	// threads started between two calls must not force a third.
	bufferHeadroom = 64 << 10
	// maxBuffer bounds the buffer: a kernel that keeps asking for more is a
	// bug to report, not memory to hand out.
	maxBuffer = 256 << 20
	// maxAttempts bounds the calls one read makes while the table keeps growing.
	maxAttempts = 8
)

// windowsSource reads the whole process table with one
// NtQuerySystemInformation(SystemProcessInformation) call. Unlike
// OpenProcess+GetProcessTimes it needs no handle to each process, so it sees
// processes of other users (DbServer.exe runs as a service account) without
// extra rights; under Wine it is also the only call that returns another
// process's CPU times correctly.
type windowsSource struct {
	mu sync.Mutex
	// buf is reused between calls. It is held as []uint64 so that the entries,
	// which the kernel aligns to 8 bytes within the buffer, are aligned in
	// memory too.
	buf []uint64
}

// NewSource returns the Windows process source.
func NewSource() (Source, error) {
	return newWindowsSource(initialBuffer), nil
}

func newWindowsSource(size int) *windowsSource {
	return &windowsSource{buf: make([]uint64, (size+7)/8)}
}

func (s *windowsSource) Find(names []string) ([]Process, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	table, err := s.read()
	if err != nil {
		return nil, err
	}
	var out []Process
	err = walkProcessTable(table, func(e *windows.SYSTEM_PROCESS_INFORMATION, name []uint16) {
		if n := windows.UTF16ToString(name); MatchName(n, names) {
			out = append(out, processOf(e, n))
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *windowsSource) Refresh(procs []Process) ([]Process, error) {
	if len(procs) == 0 {
		return nil, nil
	}
	want := make(map[key]string, len(procs))
	for _, p := range procs {
		want[key{p.PID, p.Started}] = p.Name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	table, err := s.read()
	if err != nil {
		return nil, err
	}
	out := make([]Process, 0, len(procs))
	err = walkProcessTable(table, func(e *windows.SYSTEM_PROCESS_INFORMATION, _ []uint16) {
		// The name is the caller's: decoding it again for every process on
		// the machine would be the costliest part of a refresh.
		if name, ok := want[key{int32(e.UniqueProcessID), e.CreateTime}]; ok {
			out = append(out, processOf(e, name))
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// read fills the buffer with the process table and returns the bytes the
// kernel wrote. The caller holds s.mu and must be done with the result before
// releasing it.
func (s *windowsSource) read() ([]byte, error) {
	for range maxAttempts {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&s.buf[0])), len(s.buf)*8)
		var n uint32
		err := windows.NtQuerySystemInformation(windows.SystemProcessInformation, unsafe.Pointer(&b[0]), uint32(len(b)), &n)
		switch {
		case err == nil:
			if int(n) > len(b) {
				return nil, fmt.Errorf("NtQuerySystemInformation(SystemProcessInformation) reported %d bytes written into a %d-byte buffer", n, len(b))
			}
			return b[:n], nil
		case errors.Is(err, windows.STATUS_INFO_LENGTH_MISMATCH):
			// n is what the table needed at the time of the call; it may
			// have grown since, hence the headroom. Some Windows versions
			// report no size, so grow by at least half.
			size := max(int(n), len(b)+len(b)/2) + bufferHeadroom
			if size > maxBuffer {
				return nil, fmt.Errorf("NtQuerySystemInformation(SystemProcessInformation) asks for %d bytes, more than the %d allowed", n, maxBuffer)
			}
			s.buf = make([]uint64, (size+7)/8)
		default:
			return nil, fmt.Errorf("NtQuerySystemInformation(SystemProcessInformation): %w", err)
		}
	}
	return nil, fmt.Errorf("NtQuerySystemInformation(SystemProcessInformation): process table still growing after %d attempts (last buffer %d bytes)", maxAttempts, len(s.buf)*8)
}

// StartedNow is the system time as a FILETIME (100 ns units since 1601),
// the clock the kernel stamps each process's CreateTime with.
func (s *windowsSource) StartedNow() int64 {
	ft := windows.NsecToFiletime(time.Now().UnixNano())
	return int64(ft.HighDateTime)<<32 | int64(ft.LowDateTime)
}

// processOf converts an entry: times are in 100 ns units.
func processOf(e *windows.SYSTEM_PROCESS_INFORMATION, name string) Process {
	return Process{
		PID:     int32(e.UniqueProcessID),
		Name:    name,
		Started: e.CreateTime,
		User:    float64(e.UserTime) / 1e7,
		System:  float64(e.KernelTime) / 1e7,
	}
}

// entrySize is the fixed part of an entry; its threads follow it.
const entrySize = int(unsafe.Sizeof(windows.SYSTEM_PROCESS_INFORMATION{}))

// walkProcessTable calls fn for each entry of table, the bytes
// NtQuerySystemInformation(SystemProcessInformation) wrote: a chain of
// SYSTEM_PROCESS_INFORMATION entries, each followed by its threads, linked by
// NextEntryOffset (0 on the last). The entry and the name passed to fn are
// valid only during the call.
//
// The chain is checked rather than trusted: every entry must lie whole within
// the table, every link must move forward past its entry, and every image
// name must lie inside the table. A table that breaks one of these is
// reported as an error naming the offset, not read out of bounds.
//
// Windows aligns entries to 8 bytes, but Wine 8 packs them at 2-byte
// offsets, so each entry is copied to aligned memory before it is read.
func walkProcessTable(table []byte, fn func(e *windows.SYSTEM_PROCESS_INFORMATION, name []uint16)) error {
	if len(table) == 0 {
		return errors.New("process table is empty")
	}
	base := uintptr(unsafe.Pointer(&table[0]))
	end := base + uintptr(len(table))
	var slot [(entrySize + 7) / 8]uint64
	e := (*windows.SYSTEM_PROCESS_INFORMATION)(unsafe.Pointer(&slot[0]))
	for off := 0; ; {
		if len(table)-off < entrySize {
			return fmt.Errorf("process table entry at offset %d: %d bytes left, an entry needs %d", off, len(table)-off, entrySize)
		}
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&slot[0])), entrySize), table[off:off+entrySize])

		var name []uint16
		if n := int(e.ImageName.Length); n > 0 {
			p := uintptr(unsafe.Pointer(e.ImageName.Buffer))
			if n%2 != 0 || p%2 != 0 || p < base || p > end || uintptr(n) > end-p {
				return fmt.Errorf("process table entry at offset %d (PID %d): image name of %d bytes at %#x lies outside the table [%#x, %#x)",
					off, e.UniqueProcessID, n, p, base, end)
			}
			name = unsafe.Slice(e.ImageName.Buffer, n/2)
		}
		fn(e, name)

		next := int(e.NextEntryOffset)
		if next == 0 {
			return nil
		}
		if next < entrySize || next > len(table)-off {
			return fmt.Errorf("process table entry at offset %d (PID %d): next entry offset %d is not a forward link within the %d-byte table",
				off, e.UniqueProcessID, next, len(table))
		}
		off += next
	}
}
