//go:build !windows

package textfile

// isTransientRename: a POSIX rename replaces a file others have open.
func isTransientRename(error) bool { return false }
