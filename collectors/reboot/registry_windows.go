package reboot

import (
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// OpenRegistry returns the local machine's registry.
func OpenRegistry() (Registry, error) { return localMachine{}, nil }

// localMachine reads HKLM. Keys are opened with KEY_WOW64_64KEY so that a
// path naming WOW6432Node means that node, and the native one the native
// one, whatever the binary's own bitness.
type localMachine struct{}

const access = registry.QUERY_VALUE | registry.WOW64_64KEY

func (localMachine) KeyExists(key string) (bool, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, key, access)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	k.Close()
	return true, nil
}

func (localMachine) MultiSZ(key, value string) ([]byte, bool, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, key, access)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer k.Close()
	data, typ, err := rawValue(k, value)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if typ != registry.MULTI_SZ {
		return nil, false, fmt.Errorf("value has registry type %d, want REG_MULTI_SZ (%d)", typ, registry.MULTI_SZ)
	}
	return data, true, nil
}

// rawValue reads a value's bytes as stored. The registry's own
// GetStringsValue stops short of what the Session Manager reads (it drops a
// last string that lacks its terminator), so decoding is left to
// DecodeMultiSZ.
func rawValue(k registry.Key, name string) ([]byte, uint32, error) {
	n, _, err := k.GetValue(name, nil)
	if err != nil {
		return nil, 0, err
	}
	for {
		buf := make([]byte, n)
		m, typ, err := k.GetValue(name, buf)
		if errors.Is(err, windows.ERROR_MORE_DATA) && m > n {
			n = m // the value grew between the two reads
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		return buf[:m], typ, nil
	}
}

func (localMachine) String(key, value string) (string, bool, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, key, access)
	if errors.Is(err, registry.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	defer k.Close()
	s, _, err := k.GetStringValue(value)
	if errors.Is(err, registry.ErrUnexpectedType) {
		// The type of Misc.\BuildNum is not documented; accept a number too.
		var v uint64
		if v, _, err = k.GetIntegerValue(value); err == nil {
			return strconv.FormatUint(v, 10), true, nil
		}
	}
	if errors.Is(err, registry.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return s, true, nil
}
