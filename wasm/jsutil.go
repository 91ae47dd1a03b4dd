//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"math"
	"sync"
	"syscall/js"
	"time"
)

// promise runs work in a goroutine and returns a Promise of its result; an error rejects it
// with the error's (localised) text.
func promise(work func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer executor.Release()
			defer func() {
				if p := recover(); p != nil {
					reject.Invoke(fmt.Sprintf("zmosaic: internal error: %v", p))
				}
			}()
			v, err := work()
			if err != nil {
				reject.Invoke(err.Error())
				return
			}
			resolve.Invoke(js.ValueOf(v))
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}

// await waits for a Promise. Call it from a goroutine only, never from a js.FuncOf callback.
func await(ctx context.Context, p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	then := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: arg(args)}
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{err: fmt.Errorf("%s", jsString(arg(args)))}
		return nil
	})
	defer then.Release()
	defer catch.Release()
	p.Call("then", then, catch)
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// browserAdapter describes the adapter navigator.gpu gives by default (the one gogpu/wgpu
// opens), since wgpu's browser backend names every adapter "WebGPU Adapter". nil when the
// browser has no WebGPU or no adapter (e.g. a CPU adapter without --enable-unsafe-webgpu).
func browserAdapter(ctx context.Context) map[string]any {
	g := js.Global().Get("navigator").Get("gpu")
	if !g.Truthy() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ad, err := await(ctx, g.Call("requestAdapter"))
	if err != nil || !ad.Truthy() {
		return nil
	}
	info := ad.Get("info")
	out := map[string]any{"name": "", "vendor": "", "architecture": "", "description": "", "fallback": false}
	if info.Truthy() {
		for _, k := range []string{"vendor", "architecture", "description"} {
			if v := info.Get(k); v.Type() == js.TypeString {
				out[k] = v.String()
			}
		}
		if v := info.Get("isFallbackAdapter"); v.Type() == js.TypeBoolean {
			out["fallback"] = v.Bool()
		}
	}
	if v := ad.Get("isFallbackAdapter"); v.Type() == js.TypeBoolean && v.Bool() {
		out["fallback"] = true
	}
	name := out["description"].(string)
	if name == "" {
		name = fmt.Sprintf("%s %s", out["vendor"], out["architecture"])
	}
	out["name"] = name
	return out
}

var (
	yieldMu   sync.Mutex
	lastYield time.Time
)

// yieldToBrowser lets the page repaint during a long CPU stack: Go's wasm runtime returns to
// the event loop only when every goroutine waits, and a short sleep makes it so. At most one
// yield every 50 ms, so that the cost stays negligible.
func yieldToBrowser() {
	yieldMu.Lock()
	due := time.Since(lastYield) > 50*time.Millisecond
	if due {
		lastYield = time.Now()
	}
	yieldMu.Unlock()
	if due {
		time.Sleep(time.Millisecond)
	}
}

// call invokes a page callback; an exception in it is reported on the console and does not
// stop the stack.
func call(cb js.Value, args ...any) {
	defer func() {
		if p := recover(); p != nil {
			js.Global().Get("console").Call("error", fmt.Sprintf("zmosaic: callback failed: %v", p))
		}
	}()
	cb.Invoke(args...)
}

// toMap converts a plain JavaScript object into map[string]any: numbers become float64,
// strings and booleans stay, null and undefined are left out, anything else becomes its text.
func toMap(v js.Value) map[string]any {
	if v.Type() != js.TypeObject {
		return nil
	}
	keys := js.Global().Get("Object").Call("keys", v)
	out := make(map[string]any, keys.Length())
	for i := range keys.Length() {
		k := keys.Index(i).String()
		e := v.Get(k)
		switch e.Type() {
		case js.TypeNumber:
			out[k] = e.Float()
		case js.TypeString:
			out[k] = e.String()
		case js.TypeBoolean:
			out[k] = e.Bool()
		case js.TypeNull, js.TypeUndefined:
		default:
			out[k] = jsString(e)
		}
	}
	return out
}

func bytesToJS(b []byte, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	out := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(out, b)
	return out, nil
}

// viewBytes copies the bytes of argument i: an ArrayBuffer or any view of one (Uint8Array,
// Float32Array, DataView, …). A missing, null or undefined argument is no bytes.
func viewBytes(args []js.Value, i int) ([]byte, error) {
	if i >= len(args) || args[i].IsNull() || args[i].IsUndefined() {
		return nil, nil
	}
	v := args[i]
	buf := js.Global().Get("ArrayBuffer")
	switch {
	case v.InstanceOf(buf):
		v = js.Global().Get("Uint8Array").New(v)
	case buf.Call("isView", v).Bool():
		v = js.Global().Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
	default:
		return nil, fmt.Errorf("want an ArrayBuffer or a typed array, got %s", jsString(v))
	}
	out := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(out, v)
	return out, nil
}

func arg(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

func str(args []js.Value, i int) string {
	if i >= len(args) || args[i].Type() != js.TypeString {
		return ""
	}
	return args[i].String()
}

// num reads a number argument; a missing or non-numeric one is NaN, which the session reads
// as "the value given with the stack".
func num(args []js.Value, i int) float64 {
	if i >= len(args) {
		return math.NaN()
	}
	switch args[i].Type() {
	case js.TypeNumber:
		return args[i].Float()
	case js.TypeString:
		var f float64
		if _, err := fmt.Sscan(args[i].String(), &f); err == nil {
			return f
		}
	}
	return math.NaN()
}

func jsString(v js.Value) string {
	if v.Type() == js.TypeObject && v.Get("message").Type() == js.TypeString {
		return v.Get("message").String()
	}
	return js.Global().Get("String").Invoke(v).String()
}

// watchGPUErrors makes every WebGPU device the page creates report its uncaptured errors to Go,
// and returns the function that drains them. It must run before the first device is requested.
// gogpu/wgpu neither listens for these events nor returns validation errors, so this is the
// only way to know that a shader did not compile.
func watchGPUErrors() func() []string {
	var mu sync.Mutex
	var errs []string
	report := js.FuncOf(func(_ js.Value, args []js.Value) any {
		mu.Lock()
		errs = append(errs, jsString(arg(args)))
		mu.Unlock()
		return nil
	}) // kept for the life of the page
	js.Global().Get("Function").New("report", `if (!globalThis.GPUAdapter) return;
const request = GPUAdapter.prototype.requestDevice;
GPUAdapter.prototype.requestDevice = async function (...args) {
	const device = await request.apply(this, args);
	device.addEventListener("uncapturederror", (e) => report(e.error.constructor.name + ": " + e.error.message));
	return device;
};`).Invoke(report)
	return func() []string {
		// Error events are queued tasks: let the event loop deliver those already raised.
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		out := errs
		errs = nil
		return out
	}
}
