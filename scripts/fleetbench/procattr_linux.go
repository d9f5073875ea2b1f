package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel stop the child if this process dies
// without running its deferred clean-up (a closed output pipe, SIGKILL).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
