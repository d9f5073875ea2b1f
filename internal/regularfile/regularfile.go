// Package regularfile reads whole files that must be plain files: the config
// file and the ini files the settings come from.
package regularfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Read returns the content of the regular file at path, and its information
// from before the read so a caller can tell whether it changed meanwhile.
//
// Anything that is not a regular file is refused before it is opened:
// opening a FIFO waits for a writer and reading a device may never end, so
// either would hang start-up or a collector. A file larger than limit bytes
// is refused too. Errors from the OS are returned as they are (an
// *fs.PathError names the path); the others leave naming the file to the
// caller, who knows what the file is for.
func Read(path string, limit int64) ([]byte, fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if err := check(st, limit); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	// The file opened may not be the one looked at: it may have been replaced.
	before, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if err := check(before, limit); err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > limit {
		return nil, nil, fmt.Errorf("larger than the %d byte limit", limit)
	}
	return data, before, nil
}

func check(st fs.FileInfo, limit int64) error {
	switch {
	case st.IsDir():
		return fmt.Errorf("is a directory, not a regular file")
	case !st.Mode().IsRegular():
		return fmt.Errorf("not a regular file (%s)", st.Mode().Type())
	case st.Size() > limit:
		return fmt.Errorf("%d bytes is larger than the %d byte limit", st.Size(), limit)
	}
	return nil
}
