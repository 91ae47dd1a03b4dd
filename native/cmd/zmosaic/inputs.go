package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// fitsSuffixes are the file names a folder argument picks up.
var fitsSuffixes = []string{".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz"}

func isFITSName(name string) bool {
	l := strings.ToLower(name)
	for _, s := range fitsSuffixes {
		if strings.HasSuffix(l, s) {
			return true
		}
	}
	return false
}

// expandInputs turns FILE|DIR arguments into a sorted, de-duplicated list of files. A folder
// contributes its FITS files (not recursively); files named explicitly are taken as given.
// Paths in exclude (the run's own outputs) are left out.
func expandInputs(args []string, exclude ...string) ([]string, error) {
	skip := map[string]bool{}
	for _, e := range exclude {
		if abs, err := filepath.Abs(e); err == nil {
			skip[abs] = true
		}
	}
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		abs, err := filepath.Abs(p)
		if err != nil || skip[abs] || seen[abs] {
			return
		}
		seen[abs] = true
		out = append(out, p)
	}
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arg, err)
		}
		if !st.IsDir() {
			add(arg)
			continue
		}
		entries, err := os.ReadDir(arg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arg, err)
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && isFITSName(e.Name()) && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, filepath.Join(arg, e.Name()))
			}
		}
		slices.Sort(names)
		for _, n := range names {
			add(n)
		}
	}
	return out, nil
}

// inputFiles is expandInputs for a command: on an error or an empty list it says why and
// returns false.
func (a *app) inputFiles(args []string, exclude ...string) ([]string, bool) {
	files, err := expandInputs(args, exclude...)
	if err != nil {
		a.errorf("input_error", map[string]any{"error": err.Error()})
		return nil, false
	}
	if len(files) == 0 {
		a.errorf("no_inputs", map[string]any{"args": fmt.Sprint(args)})
		return nil, false
	}
	return files, true
}

// validOptions reports the first failing check of a command's options as a usage error.
func (a *app) validOptions(command string, checks ...func() error) bool {
	for _, check := range checks {
		if err := check(); err != nil {
			a.errorf("usage_error", map[string]any{"command": command, "error": err.Error()})
			return false
		}
	}
	return true
}
