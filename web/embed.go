// Package web holds the in-browser preview page (static/index.html, app.js, style.css) and,
// after `make web`, the engine it loads: static/zmosaic.wasm (built from ./wasm) and Go's
// static/wasm_exec.js. Both are build outputs, ignored by git; `zmosaic serve` embeds whatever
// static/ holds when the binary is built, and explains `make web` when the wasm is missing.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Static is the page's files, rooted at static/ (index.html at the top).
var Static fs.FS = mustSub(static, "static")

// WasmFile is the engine's name inside Static.
const WasmFile = "zmosaic.wasm"

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // only an invalid literal path gets here
	}
	return sub
}
