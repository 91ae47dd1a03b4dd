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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
