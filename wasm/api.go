//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"sync"
	"syscall/js"
	"unsafe"

	"github.com/zmosaic/zmosaic/wasm/session"
)

// api is globalThis.zmosaic: the session behind JavaScript functions.
type api struct {
	s   *session.Session
	obj js.Value

	mu       sync.Mutex
	progress []js.Value
	events   []js.Value
}

// throwing wraps a Go function so that a returned {__zmosaic_error: msg} becomes a thrown
// Error: a js.FuncOf cannot throw, and a Go panic would end the program.
var throwing = js.Global().Get("Function").New("f", `return function () {
	const r = f.apply(this, arguments);
	if (r !== null && typeof r === "object" && Object.prototype.hasOwnProperty.call(r, "__zmosaic_error")) {
		throw new Error(r.__zmosaic_error);
	}
	return r;
};`)

func newAPI(s *session.Session) *api {
	a := &api{s: s, obj: js.Global().Get("Object").New()}
	a.def("setLang", func(args []js.Value) (any, error) { return s.SetLang(str(args, 0)), nil })
	a.def("lang", func([]js.Value) (any, error) { return s.Lang(), nil })
	a.def("t", func(args []js.Value) (any, error) {
		var params map[string]any
		if len(args) > 1 {
			params = toMap(args[1])
		}
		return s.T(str(args, 0), params), nil
	})
	a.def("defaults", func([]js.Value) (any, error) { return session.Defaults(), nil })
	a.def("mosaicDefaults", func([]js.Value) (any, error) { return session.MosaicDefaults(), nil })
	a.def("addFile", func(args []js.Value) (any, error) {
		if len(args) < 2 || args[1].Type() != js.TypeObject || args[1].Get("length").Type() != js.TypeNumber {
			return nil, fmt.Errorf("zmosaic.addFile(name, uint8array): the second argument must be a Uint8Array")
		}
		data := make([]byte, args[1].Get("length").Int())
		js.CopyBytesToGo(data, args[1])
		return s.AddFile(str(args, 0), data), nil
	})
	a.def("removeFile", func(args []js.Value) (any, error) { return s.RemoveFile(str(args, 0)), nil })
	a.def("clearFiles", func([]js.Value) (any, error) { s.ClearFiles(); return nil, nil })
	a.def("files", func([]js.Value) (any, error) { return s.Files(), nil })
	a.def("onProgress", func(args []js.Value) (any, error) { return nil, a.listen(&a.progress, args) })
	a.def("onEvent", func(args []js.Value) (any, error) { return nil, a.listen(&a.events, args) })
	a.def("stack", func(args []js.Value) (any, error) {
		var options map[string]any
		if len(args) > 0 {
			options = toMap(args[0])
		}
		return promise(func() (any, error) {
			return a.s.Stack(context.Background(), options, session.Hooks{Progress: a.emitProgress, Event: a.emitEvent})
		}), nil
	})
	a.def("mosaic", func(args []js.Value) (any, error) {
		var options map[string]any
		if len(args) > 0 {
			options = toMap(args[0])
		}
		return promise(func() (any, error) {
			return a.s.Mosaic(context.Background(), options, session.Hooks{Progress: a.emitProgress, Event: a.emitEvent})
		}), nil
	})
	// stackBand is a test and diagnostic entry (the cross-backend golden suite uses it): one
	// band straight through the page's Runner, bytes in and out. See session.StackBand.
	a.def("stackBand", func(args []js.Value) (any, error) {
		var in session.Band
		var err error
		for i, dst := range []*[]byte{0: &in.Frames, 3: &in.Norm, 4: &in.Weights} {
			if dst == nil {
				continue
			}
			if *dst, err = viewBytes(args, i); err != nil {
				return nil, fmt.Errorf("zmosaic.stackBand(frames, n, width, norm, weights, options): argument %d: %w", i+1, err)
			}
		}
		in.NFrames, in.Width = int(num(args, 1)), int(num(args, 2))
		var options map[string]any
		if len(args) > 5 {
			options = toMap(args[5])
		}
		return promise(func() (any, error) {
			r, err := a.s.StackBand(context.Background(), in, options)
			if err != nil {
				return nil, err
			}
			out := r.JS()
			for k, v := range out {
				if b, ok := v.([]byte); ok {
					out[k], _ = bytesToJS(b, nil)
				}
			}
			return out, nil
		}), nil
	})
	a.def("previewRGBA", func(args []js.Value) (any, error) {
		w, h, rgba, err := s.PreviewRGBA(num(args, 0), num(args, 1), num(args, 2))
		if err != nil {
			return nil, err
		}
		data := js.Global().Get("Uint8ClampedArray").New(len(rgba))
		js.CopyBytesToJS(data, rgba)
		return map[string]any{"width": w, "height": h, "data": data}, nil
	})
	a.def("resultFloat32", func([]js.Value) (any, error) {
		pix, err := s.ResultFloat32()
		if err != nil {
			return nil, err
		}
		out := js.Global().Get("Float32Array").New(len(pix))
		if len(pix) > 0 {
			// wasm and every JavaScript engine are little-endian: the bytes are the floats.
			raw := unsafe.Slice((*byte)(unsafe.Pointer(&pix[0])), len(pix)*4)
			js.CopyBytesToJS(js.Global().Get("Uint8Array").New(out.Get("buffer")), raw)
		}
		return out, nil
	})
	a.def("fitsBytes", func([]js.Value) (any, error) { return bytesToJS(s.FITSBytes()) })
	a.def("coverageFitsBytes", func([]js.Value) (any, error) { return bytesToJS(s.CoverageFITSBytes()) })
	a.def("pngBytes", func(args []js.Value) (any, error) {
		return bytesToJS(s.PNGBytes(num(args, 0), num(args, 1), num(args, 2)))
	})
	return a
}

// def sets obj[name] to fn, made to throw its error in JavaScript, and keeps it for the life
// of the program (the functions are never released: the API lives as long as the page).
func (a *api) def(name string, fn func(args []js.Value) (any, error)) {
	f := js.FuncOf(func(_ js.Value, args []js.Value) (ret any) {
		defer func() {
			if p := recover(); p != nil {
				ret = map[string]any{"__zmosaic_error": fmt.Sprintf("zmosaic.%s: %v", name, p)}
			}
		}()
		v, err := fn(args)
		if err != nil {
			return map[string]any{"__zmosaic_error": err.Error()}
		}
		return v
	})
	a.obj.Set(name, throwing.Invoke(f))
}

// listen adds a callback, like addEventListener (several listeners are allowed).
func (a *api) listen(list *[]js.Value, args []js.Value) error {
	if len(args) == 0 || args[0].Type() != js.TypeFunction {
		return fmt.Errorf("zmosaic: a callback function is required")
	}
	a.mu.Lock()
	*list = append(*list, args[0])
	a.mu.Unlock()
	return nil
}

func (a *api) listeners(list *[]js.Value) []js.Value {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]js.Value(nil), (*list)...)
}

func (a *api) emitProgress(phase string, done, total int) {
	for _, cb := range a.listeners(&a.progress) {
		call(cb, phase, done, total)
	}
	yieldToBrowser()
}

func (a *api) emitEvent(ev map[string]any) {
	v := js.ValueOf(ev)
	for _, cb := range a.listeners(&a.events) {
		call(cb, v)
	}
}
