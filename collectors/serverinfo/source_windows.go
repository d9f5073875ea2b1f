package serverinfo

import (
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/windows/registry"
)

// Supported reports whether this OS records the installation in a registry.
const Supported = true

// Keys the installer writes, most likely first: the 32-bit server's key on a
// 64-bit Windows, then the native key (a 32-bit Windows, or a 64-bit build).
var Keys = []string{
	`SOFTWARE\WOW6432Node\TrendMicro\OfficeScan\service\Information`,
	`SOFTWARE\TrendMicro\OfficeScan\service\Information`,
}

// Local returns the source over HKLM.
func Local() Source { return Registry{Root: registry.LOCAL_MACHINE, RootName: "HKLM", Keys: Keys} }

// Registry reads Info from the first of Keys under Root that exists.
type Registry struct {
	Root     registry.Key
	RootName string
	Keys     []string
}

// access opens each path as written whatever the exporter's own bitness: a
// 32-bit build would otherwise be redirected away from the native key.
const access = registry.QUERY_VALUE | registry.WOW64_64KEY

func (r Registry) Read() (Info, error) {
	for _, path := range r.Keys {
		k, err := registry.OpenKey(r.Root, path, access)
		if errors.Is(err, registry.ErrNotExist) {
			continue
		}
		where := r.RootName + `\` + path
		if err != nil {
			return Info{}, fmt.Errorf("opening %s: %w", where, err)
		}
		defer k.Close()
		info := Info{Where: where}
		for name, dst := range map[string]*string{ValueDir: &info.Dir, ValueVersion: &info.Version, ValueBuild: &info.Build} {
			if *dst, err = stringValue(k, name); err != nil {
				return Info{}, fmt.Errorf("reading %s value %s: %w", where, name, err)
			}
		}
		return info, nil
	}
	return Info{}, fmt.Errorf("no OfficeScan / Apex One server is recorded in the registry (none of %s\\%v exists)", r.RootName, r.Keys)
}

// stringValue reads a REG_SZ / REG_EXPAND_SZ, or a REG_DWORD as its decimal
// text: which type the installer uses for the build number is not documented.
// A value that is not there is "".
func stringValue(k registry.Key, name string) (string, error) {
	s, _, err := k.GetStringValue(name)
	switch {
	case errors.Is(err, registry.ErrNotExist):
		return "", nil
	case errors.Is(err, registry.ErrUnexpectedType):
		n, _, err := k.GetIntegerValue(name)
		if err != nil {
			return "", err
		}
		return strconv.FormatUint(n, 10), nil
	}
	return s, err
}
