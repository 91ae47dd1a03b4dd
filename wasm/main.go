//go:build js && wasm

// Command zmosaic.wasm is the in-browser preview's engine. It sets globalThis.zmosaic (the API
// below, used by web/static/app.js and the browser end-to-end tests), then dispatches
// "zmosaic-ready" on document and stays alive for callbacks.
//
//	zmosaic.version; setLang(lang); lang(); t(key, params); defaults()
//	addFile(name, uint8array) → {name, ok, width, height, channels, bitpix, wcs, error}
//	removeFile(name); clearFiles(); files()
//	onProgress(cb(phase, done, total)); onEvent(cb({key, level, message, params}))
//	stack(options) → Promise<{kind: "stack", width, height, channels, frames, skipped, backend, backend_reason,
//	                          adapter, limits, seconds, rejected_low_pct, rejected_high_pct}>
//	mosaicDefaults()
//	mosaic(options) → Promise<{kind: "mosaic", width, height, channels, frames, skipped,
//	                           skipped_files: [{name, reason}], backend, backend_reason, adapter,
//	                           limits, seconds, pixel_scale, projection, bands, matched}>
//	previewRGBA(p_low, p_high, asinh) → {width, height, data: Uint8ClampedArray}
//	resultFloat32() → Float32Array (CHW); fitsBytes() → Uint8Array; pngBytes(p_low, p_high, asinh) → Uint8Array
//	coverageFitsBytes() → Uint8Array (the last mosaic's coverage map)
//
// The renderings and downloads (previewRGBA, resultFloat32, fitsBytes, pngBytes) are of the
// last finished run, stack or mosaic; a mosaic's FITS carries its output WCS and ALPHA.
//
// A test and diagnostic entry runs one band through the page's Runner (the golden suite
// checks the browser's WebGPU with it); frames, norm and weights are typed arrays or
// ArrayBuffers of little-endian float32 (frame-major; gain, offset per frame; empty = identity
// and equal weights), and options take reject, combine, kappa_low, kappa_high, iterations,
// backend, gpu_budget:
//
//	stackBand(frames, n, width, norm, weights, options) → Promise<{valueBytes, keptBytes:
//	          Uint8Array (float32 / uint32 LE), rejected_low, rejected_high, samples, backend,
//	          gpu_errors, seconds}>
//
// Synchronous functions throw a JavaScript Error with a localised message; stack and mosaic reject their
// Promise with a localised string. The work lives in wasm/session, which is tested natively.
//
// # Never block in a callback
//
// A js.FuncOf callback runs on the JavaScript event loop: waiting there on a Promise (which is
// what gogpu/wgpu does to open a device or map a buffer) deadlocks the Go program. Every call
// that may wait returns a Promise and does its work in a goroutine.
package main

import (
	"syscall/js"

	"github.com/zmosaic/zmosaic/pipeline"
	"github.com/zmosaic/zmosaic/wasm/session"
)

func main() {
	lang := "en"
	if nav := js.Global().Get("navigator"); nav.Truthy() && nav.Get("language").Truthy() {
		lang = nav.Get("language").String()
	}
	s, err := session.New(lang, session.Env{Adapter: browserAdapter, GPUErrors: watchGPUErrors()})
	if err != nil {
		// Only a broken build gets here (the catalogs are embedded): say so where a developer looks.
		js.Global().Get("console").Call("error", "zmosaic: "+err.Error())
		return
	}
	api := newAPI(s)
	api.obj.Set("version", pipeline.Version)
	js.Global().Set("zmosaic", api.obj)
	if doc := js.Global().Get("document"); doc.Truthy() {
		doc.Call("dispatchEvent", js.Global().Get("Event").New("zmosaic-ready"))
	}
	select {} // keep the runtime alive for callbacks
}
