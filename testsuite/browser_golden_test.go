//go:build !(js && wasm)

package testsuite

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

// The browser is a backend of the golden suite like Vulkan: every fixed-seed case of
// TestStackGoldens goes through zmosaic.stackBand, i.e. the Runner the page stacks with, in
// the real page. With --enable-unsafe-webgpu it runs the WGSL on Chromium's SwiftShader and is
// held to the tolerance table; without, the page's CPU path is the same Go code as the golden,
// so it must give the same bits.

// bandJS defines the page-side helpers once per tab: base64 both ways (JSON carries neither
// NaN nor ±Inf, and would round the last bits) and a wrapper that returns stackBand's result
// as JSON-safe values.
const bandJS = `globalThis.__zmBand = async (frames, n, width, norm, weights, options) => {
	const dec = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
	const enc = (u) => {
		let s = "";
		for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
		return btoa(s);
	};
	const r = await zmosaic.stackBand(dec(frames), n, width, dec(norm), dec(weights), options);
	return {value: enc(r.valueBytes), kept: enc(r.keptBytes), rejected_low: r.rejected_low,
		rejected_high: r.rejected_high, samples: r.samples, backend: r.backend,
		gpu_errors: r.gpu_errors, seconds: r.seconds};
}; true`

// bandReply is what __zmBand resolves to.
type bandReply struct {
	Value        string   `json:"value"`
	Kept         string   `json:"kept"`
	RejectedLow  int64    `json:"rejected_low"`
	RejectedHigh int64    `json:"rejected_high"`
	Samples      int64    `json:"samples"`
	Backend      string   `json:"backend"`
	GPUErrors    []string `json:"gpu_errors"`
	Seconds      float64  `json:"seconds"`
}

// browserStackBand runs one band through zmosaic.stackBand in the tab and decodes the result.
// It takes the subtest's t: the page's own helpers would fail the test that opened it.
func browserStackBand(t *testing.T, p *page, b band, opt cpu.StackOptions) (result, bandReply) {
	t.Helper()
	f32 := func(v []float32) string {
		raw := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
		}
		return base64.StdEncoding.EncodeToString(raw)
	}
	var frames, norm []float32
	for _, s := range b.src {
		frames = append(frames, s...)
	}
	for _, a := range b.norm {
		norm = append(norm, a.Gain, a.Offset)
	}
	options, err := json.Marshal(map[string]any{"reject": opt.Reject, "combine": opt.Combine,
		"kappa_low": opt.KappaLow, "kappa_high": opt.KappaHigh, "iterations": opt.Iterations, "backend": "auto"})
	require.NoError(t, err)
	expr := fmt.Sprintf(`__zmBand(%q, %d, %d, %q, %q, %s)`, f32(frames), len(b.src), b.width, f32(norm), f32(b.weights), options)
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	require.NoError(t, err, "zmosaic.stackBand%s", p.consoleTail())
	var rep bandReply
	require.NoError(t, json.Unmarshal(raw, &rep))

	value, err := base64.StdEncoding.DecodeString(rep.Value)
	require.NoError(t, err)
	kept, err := base64.StdEncoding.DecodeString(rep.Kept)
	require.NoError(t, err)
	n := b.width * b.rows
	require.Len(t, value, 4*n, "valueBytes")
	require.Len(t, kept, 4*n, "keptBytes")
	r := result{value: make([]float32, n), kept: make([]uint32, n)}
	for j := range n {
		r.value[j] = math.Float32frombits(binary.LittleEndian.Uint32(value[4*j:]))
		r.kept[j] = binary.LittleEndian.Uint32(kept[4*j:])
	}
	r.stats = cpu.StackStats{RejectedLow: rep.RejectedLow, RejectedHigh: rep.RejectedHigh, Samples: rep.Samples, Pixels: int64(n)}
	return r, rep
}

func TestBrowserStackGoldens(t *testing.T) {
	requireChromium(t)
	url := serve(t, site(t)) + "/index.html"
	modes := []struct {
		name    string
		webgpu  bool   // --enable-unsafe-webgpu: SwiftShader is the adapter
		backend string // what the page must report in auto
		allowed []consoleAllowed
	}{
		{name: "webgpu", webgpu: true, backend: "webgpu"},
		{name: "cpu", webgpu: false, backend: "cpu", allowed: []consoleAllowed{{
			text: "No available adapters",
			why:  "Chromium's notice that requestAdapter() found none, the situation this mode creates on purpose",
		}}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			start := time.Now()
			p := startBrowser(t, mode.webgpu).newPage(t, url)
			p.do(chromedp.Evaluate[chromedp.Void](bandJS))
			var inBrowser float64
			for i, opt := range methods() {
				name := caseName(opt)
				t.Run(name, func(t *testing.T) {
					b := randomBand(rand.New(rand.NewPCG(uint64(100+i), 7)), 23, 61, 7)
					want, err := readGolden(filepath.Join("testdata", name+"_golden.fits"), b)
					require.NoError(t, err, "golden missing: run go test ./testsuite -update")
					got, rep := browserStackBand(t, p, b, opt)
					inBrowser += rep.Seconds
					assert.Empty(t, rep.GPUErrors, "WebGPU errors the browser reported")
					require.Equal(t, mode.backend, rep.Backend, "where zmosaic.stackBand ran")
					if !mode.webgpu {
						// The wasm CPU path is the Go code that wrote the golden.
						requireBitIdentical(t, want, got)
						assert.Equal(t, []int64{want.stats.RejectedLow, want.stats.RejectedHigh, want.stats.Samples},
							[]int64{got.stats.RejectedLow, got.stats.RejectedHigh, got.stats.Samples}, "rejected low, high, samples")
						return
					}
					ulp, mm := compareToReference(t, b, opt, want, got)
					var otherBits int
					for j, w := range want.value {
						if g := got.value[j]; math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
							otherBits++
						}
					}
					t.Logf("browser-webgpu: worst %.2f ulp, %.4f%% pixels with other counts, %d of %d values not bit-identical (%.0f ms in the page)",
						ulp, 100*mm, otherBits, len(want.value), 1000*rep.Seconds)
				})
			}
			t.Logf("%s: 16 cases in %v, %.0f ms of them inside zmosaic.stackBand", mode.name, time.Since(start).Round(time.Millisecond), 1000*inBrowser)
			p.requireCleanConsole(mode.allowed...)
		})
	}
}
