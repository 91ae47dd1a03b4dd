// Command zmosaic stacks and mosaics astronomical FITS frames. Run `zmosaic help` for the
// commands and `zmosaic COMMAND --help` for each command's flags, defaults and an example; the
// help texts live in locales/en.json and locales/fr.json (`--lang fr`).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/zmosaic/zmosaic/native/gpu" // registers the WebGPU backends (Vulkan, Metal, DX12)
)

func main() {
	cleanup := ensureRuntimeDir()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	cleanup()
	os.Exit(code)
}

// ensureRuntimeDir gives the Vulkan loader a private XDG_RUNTIME_DIR when the session has none
// (servers, containers, CI): without one, Mesa prints "XDG_RUNTIME_DIR is invalid" on stderr
// each time a device opens, which users would take for an error of ours.
func ensureRuntimeDir() (cleanup func()) {
	if os.Getenv("XDG_RUNTIME_DIR") != "" {
		return func() {}
	}
	dir, err := os.MkdirTemp("", "zmosaic-xdg-")
	if err != nil {
		return func() {}
	}
	os.Setenv("XDG_RUNTIME_DIR", dir)
	return func() { os.RemoveAll(dir) }
}
