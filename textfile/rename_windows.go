package textfile

import (
	"errors"

	"golang.org/x/sys/windows"
)

// isTransientRename reports a rename refused because another process has the
// old file open without FILE_SHARE_DELETE, as windows_exporter (a Go program)
// does while it reads the file during a scrape. The reader lets go within
// milliseconds, so the rename is retried.
func isTransientRename(err error) bool {
	return errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_SHARING_VIOLATION)
}
