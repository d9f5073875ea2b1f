package reboot

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Operation is one file operation Windows has queued for the next start-up
// in PendingFileRenameOperations (MoveFileEx with MOVEFILE_DELAY_UNTIL_REBOOT).
type Operation struct {
	// Source is the file to move or delete, with the NT `\??\` prefix removed.
	Source string
	// Target is where Source goes; empty when Delete.
	Target string
	// Delete: an empty target string means "delete Source".
	Delete bool
	// ReplaceExisting: a `!` before the target means Source replaces an
	// existing Target (MOVEFILE_REPLACE_EXISTING), which is how a loaded
	// driver is swapped for a new one.
	ReplaceExisting bool
	// Unpaired: the value held an odd number of strings and this is the
	// last one, a source without a target. Windows' handling of it is not
	// documented, so it is kept for matching rather than dropped.
	Unpaired bool
}

// DecodeMultiSZ splits raw REG_MULTI_SZ data (UTF-16LE) into its strings.
//
// A REG_MULTI_SZ is NUL-terminated strings followed by one more NUL, and
// generic readers stop at the first empty string. PendingFileRenameOperations
// uses empty strings inside the list (the target of a delete), and the Session
// Manager reads it to the end of the data, so this does too: only the final
// list terminator is dropped, and a last string missing its own terminator is
// kept.
func DecodeMultiSZ(data []byte) ([]string, error) {
	if len(data)%2 != 0 {
		return nil, fmt.Errorf("REG_MULTI_SZ data of %d bytes is not whole UTF-16 code units", len(data))
	}
	units := make([]uint16, len(data)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(data[2*i:])
	}
	if n := len(units); n > 0 && units[n-1] == 0 {
		units = units[:n-1]
	}
	var out []string
	from := 0
	for i, u := range units {
		if u == 0 {
			out = append(out, string(utf16.Decode(units[from:i])))
			from = i + 1
		}
	}
	if from < len(units) {
		out = append(out, string(utf16.Decode(units[from:])))
	}
	return out, nil
}

// ntPrefix marks a path in the NT object namespace's DOS-device directory;
// the queue stores paths that way.
const ntPrefix = `\??\`

// ParseOperations reads the strings of a PendingFileRenameOperations value as
// source/target pairs. Pairs with an empty source name no file and are
// skipped. An odd count returns every operation, the unpaired last source
// included, together with an error describing the problem, so the caller can
// warn and still match what was found.
func ParseOperations(strs []string) ([]Operation, error) {
	var ops []Operation
	for i := 0; i+1 < len(strs); i += 2 {
		src := strings.TrimPrefix(strs[i], ntPrefix)
		if src == "" {
			continue
		}
		op := Operation{Source: src}
		target := strs[i+1]
		if rest, ok := strings.CutPrefix(target, "!"); ok {
			op.ReplaceExisting = true
			target = rest
		}
		op.Target = strings.TrimPrefix(target, ntPrefix)
		op.Delete = op.Target == ""
		ops = append(ops, op)
	}
	if len(strs)%2 == 1 {
		last := strs[len(strs)-1]
		if src := strings.TrimPrefix(last, ntPrefix); src != "" {
			ops = append(ops, Operation{Source: src, Unpaired: true})
		}
		return ops, fmt.Errorf("%d strings are not source/target pairs: the last, %q, has no target", len(strs), last)
	}
	return ops, nil
}
