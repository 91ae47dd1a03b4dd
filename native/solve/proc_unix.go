//go:build unix

package solve

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts the solver in a process group of its own and makes cancellation kill
// the whole group: solve-field forks astrometry-engine, and killing only the parent would leave
// it running.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
