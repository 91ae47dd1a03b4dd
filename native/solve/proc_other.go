//go:build !unix

package solve

import "os/exec"

// ownProcessGroup keeps exec's default (kill the process itself) where process groups are not
// available.
func ownProcessGroup(cmd *exec.Cmd) {}
