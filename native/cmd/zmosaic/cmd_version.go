package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/pipeline"
)

func versionCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	return func([]string) int {
		fmt.Fprintf(a.stdout, "zmosaic %s (%s, %s/%s)\n", pipeline.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	}
}
