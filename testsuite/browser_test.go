//go:build !(js && wasm)

package testsuite

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/locales"
	"github.com/zmosaic/zmosaic/pipeline"
)

// These tests drive the page a user gets from `zmosaic serve` (web/static + the wasm build of
// ./wasm) in headless chromium: files go in through #file-input, the stack starts from
// #stack-btn, and the result read back through zmosaic.resultFloat32() is compared with
// pipeline.Stack run natively on the same files.

// browserSetup is what every browser scenario needs: the served page, frames on disk and
// their native CPU stack.
type browserSetup struct {
	url    string
	frames []string
	ref    reference
}

func newBrowserSetup(t *testing.T) browserSetup {
	t.Helper()
	requireChromium(t)
	s := browserSetup{url: serve(t, site(t)) + "/index.html"}
	s.frames = writeFrames(t, t.TempDir())
	s.ref = cpuReference(t, s.frames)
	require.Equal(t, len(s.frames), s.ref.res.Used)
	return s
}

// stackTolerance is the table entry for the page's default rejection.
func stackTolerance(t *testing.T) Tolerance {
	t.Helper()
	key := "stack/" + string(pipeline.DefaultStackOptions().Reject)
	tol, ok := Tolerances[key]
	require.True(t, ok, "no tolerance entry %q", key)
	return tol
}

// requirePageDefaults checks that zmosaic.defaults() are pipeline's, so that the native reference
// runs with the options the page used.
func requirePageDefaults(t *testing.T, p *page) {
	t.Helper()
	var d struct {
		Reject     string  `json:"reject"`
		Combine    string  `json:"combine"`
		KappaLow   float64 `json:"kappa_low"`
		KappaHigh  float64 `json:"kappa_high"`
		Iterations int     `json:"iterations"`
		Weight     string  `json:"weight"`
		Norm       string  `json:"norm"`
		Backend    string  `json:"backend"`
	}
	p.evalJSON(`zmosaic.defaults()`, &d)
	o := pipeline.DefaultStackOptions()
	assert.Equal(t, string(o.Reject), d.Reject)
	assert.Equal(t, string(o.Combine), d.Combine)
	assert.InDelta(t, float64(o.KappaLow), d.KappaLow, 0)
	assert.InDelta(t, float64(o.KappaHigh), d.KappaHigh, 0)
	assert.Equal(t, o.Iterations, d.Iterations)
	assert.Equal(t, string(o.Weight), d.Weight)
	assert.Equal(t, string(o.Norm), d.Norm)
	assert.Equal(t, string(o.Compute.Backend), d.Backend)
}

// fileItem is one row of #files.
type fileItem struct {
	Name  string `json:"name"`
	Error bool   `json:"error"`
	Text  string `json:"text"`
}

func (p *page) fileList() []fileItem {
	var items []fileItem
	p.evalJSON(`[...document.querySelectorAll("#files li[data-name]")].map(li => ({
		name: li.dataset.name, error: li.classList.contains("error"), text: li.innerText}))`, &items)
	return items
}

// logItem is one row of #log.
type logItem struct {
	Key  string `json:"key"`
	Text string `json:"text"`
}

func (p *page) logItems() []logItem {
	var items []logItem
	p.evalJSON(`[...document.querySelectorAll("#log li")].map(li => ({key: li.dataset.key || "", text: li.innerText}))`, &items)
	return items
}

// badge is #backend-badge: its text and the detail (title) that holds the reason and adapter.
type badge struct {
	Text   string `json:"text"`
	Detail string `json:"detail"`
}

func (p *page) badge() badge {
	var b badge
	p.evalJSON(`(() => { const b = document.querySelector("#backend-badge");
		return {text: b.innerText.trim(), detail: (b.title || "") + " " + (b.dataset.detail || "")}; })()`, &b)
	b.Detail = strings.TrimSpace(b.Detail)
	return b
}

func TestBrowserStacksOnWebGPU(t *testing.T) {
	s := newBrowserSetup(t)
	tol := stackTolerance(t)
	b := startBrowser(t, true)

	t.Run("a stack from the page runs on WebGPU and matches the CPU within the tolerance table", func(t *testing.T) {
		p := b.newPage(t, s.url)
		requirePageDefaults(t, p)
		p.upload(s.frames...)
		for _, f := range p.fileList() {
			assert.False(t, f.Error, "%s listed as an error: %s", f.Name, f.Text)
		}
		p.stackViaButton()

		bd := p.badge()
		assert.True(t, strings.HasPrefix(bd.Text, "WebGPU"), "badge %q should say WebGPU (detail %q)", bd.Text, bd.Detail)
		result := p.resultFloat32()
		c, err := compareWithTolerance(s.ref, result, tol)
		require.NoError(t, err)
		t.Logf("page (WebGPU) vs pipeline.Stack (CPU): %s", c)
		var keys []string
		for _, it := range p.logItems() {
			keys = append(keys, it.Key)
		}
		assert.Subset(t, keys, []string{"stack_start", "stack_memory_plan", "stack_using_gpu", "stack_done"},
			"#log shows the run's events")
		// The preview is the stretched stack at its own resolution, and not blank.
		var pv struct{ W, H, Min, Max int }
		p.evalJSON(`(() => { const c = document.querySelector("#preview");
			const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
			let lo = 255, hi = 0; for (let i = 0; i < d.length; i += 4) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
			return {w: c.width, h: c.height, min: lo, max: hi}; })()`, &pv)
		assert.Equal(t, []int{96, 64}, []int{pv.W, pv.H}, "preview size")
		assert.Greater(t, pv.Max-pv.Min, 100, "the preview shows an image, not a flat canvas")
		// The FITS the download button saves holds the same pixels.
		img := p.fitsBytes()
		assert.Equal(t, []int{96, 64, 1}, []int{img.Width, img.Height, img.Channels})
		same := len(img.Pix) == len(result)
		for i := 0; same && i < len(result); i++ {
			same = math.Float32bits(img.Pix[i]) == math.Float32bits(result[i])
		}
		assert.True(t, same, "zmosaic.fitsBytes() holds the bits of zmosaic.resultFloat32()")
		assert.Equal(t, "1", p.evalString(`String(document.querySelector("#progress").value / document.querySelector("#progress").max)`),
			"#progress is full when the stack is done")

		r := p.stackAPI("auto")
		assert.Equal(t, "webgpu", r.Backend, "reason %q", r.BackendReason)
		assert.NotNil(t, r.Adapter, "a WebGPU stack reports its adapter")
		assert.Equal(t, []int{96, 64, 1, len(s.frames)}, []int{r.Width, r.Height, r.Channels, r.Frames})
		c, err = compareWithTolerance(s.ref, p.resultFloat32(), tol)
		require.NoError(t, err, "second stack through zmosaic.stack")
		p.screenshot("webgpu-stack")
		p.requireCleanConsole()
	})

	t.Run("a corrupt file is listed as an error and the others are stacked", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "broken.fits")
		// Starts like FITS, so only reading it can tell it is damaged.
		require.NoError(t, os.WriteFile(bad, []byte(strings.Repeat("SIMPLE  =                    T / truncated", 3)), 0o644))
		p := b.newPage(t, s.url)
		p.upload(append(append([]string{}, s.frames[:3]...), append([]string{bad}, s.frames[3:]...)...)...)
		var errs []fileItem
		for _, f := range p.fileList() {
			if f.Error {
				errs = append(errs, f)
			}
		}
		require.Len(t, errs, 1, "exactly the corrupt file is marked")
		assert.Equal(t, "broken.fits", errs[0].Name)
		assert.NotEqual(t, "broken.fits", strings.TrimSpace(errs[0].Text), "the row shows the reason, not just the name")
		visible := p.evalString(`(() => { const li = document.querySelector('#files li[data-name="broken.fits"]');
			const r = li.getBoundingClientRect(); return String(r.width > 0 && r.height > 0 && getComputedStyle(li).visibility !== "hidden"); })()`)
		assert.Equal(t, "true", visible, "the error row is visible")

		p.stackViaButton()
		c, err := compareWithTolerance(s.ref, p.resultFloat32(), tol)
		require.NoError(t, err, "the good frames are stacked as without the corrupt one")
		t.Logf("with a corrupt file: %s", c)
		r := p.stackAPI("auto")
		assert.Equal(t, len(s.frames), r.Frames, "frames stacked")
		p.screenshot("corrupt-file")
		p.requireCleanConsole()
	})

	t.Run("timings", func(t *testing.T) {
		p := b.newPage(t, s.url)
		p.upload(s.frames...)
		// The first run of each path compiles pipelines and warms caches; report the best of 3.
		best := func(backend string) (stackResult, []float64) {
			var r stackResult
			var walls []float64
			for i := range 3 {
				ri := p.stackAPI(backend)
				walls = append(walls, ri.WallMS)
				if i == 0 || ri.WallMS < r.WallMS {
					r = ri
				}
			}
			return r, walls
		}
		gpu, gpuWalls := best("gpu")
		require.Equal(t, "webgpu", gpu.Backend)
		cpu, cpuWalls := best("cpu")
		require.Equal(t, "cpu", cpu.Backend)
		nativeMS := s.ref.seconds * 1000
		for range 2 {
			nativeMS = min(nativeMS, cpuReference(t, s.frames).seconds*1000)
		}
		t.Logf("BenchmarkBrowserStack/%dx96x64: webgpu %.1f ms (stack %.1f ms)  wasm-cpu %.1f ms (stack %.1f ms)  native-cpu %.1f ms  (best of 3; walls webgpu %.0f, wasm-cpu %.0f ms; wasm build %v)",
			len(s.frames), gpu.WallMS, gpu.Seconds*1000, cpu.WallMS, cpu.Seconds*1000, nativeMS,
			gpuWalls, cpuWalls, buildTime.Round(time.Millisecond))
		p.requireCleanConsole()
	})
}

func TestBrowserFallsBackToCPUWithoutWebGPU(t *testing.T) {
	s := newBrowserSetup(t)
	b := startBrowser(t, false)
	p := b.newPage(t, s.url)
	p.upload(s.frames...)
	p.stackViaButton()

	// Same Go code, same inputs, same options: the same bits as the native CPU stack.
	got := p.resultFloat32()
	c, err := compareWithTolerance(s.ref, got, Tolerance{})
	require.NoError(t, err)
	assert.True(t, c.identical, "the wasm CPU path gives the bits of pipeline.Stack on the CPU: %s", c)

	r := p.stackAPI("auto")
	assert.Equal(t, "cpu", r.Backend)
	assert.NotEmpty(t, r.BackendReason, "the fallback says why")
	assert.Nil(t, r.Adapter)

	en := p.badge()
	assert.True(t, strings.HasPrefix(en.Text, "CPU"), "badge %q should say CPU", en.Text)
	assert.NotEmpty(t, en.Detail, "the badge holds the reason")
	enLog := fallbackEntries(p.logItems())
	require.NotEmpty(t, enLog, "#log says that the stack fell back to the CPU: %v", p.logItems())
	requireLocalised(t, "en", enLog)
	p.screenshot("cpu-fallback-en")

	// Switch the page to French the way a user does: the log is re-rendered in French at once.
	p.do(chromedpSelect("#lang", "fr"))
	p.waitJS(`zmosaic.lang() === "fr" && document.documentElement.lang === "fr"`, 5*time.Second)
	requireLocalised(t, "fr", fallbackEntries(p.logItems()))
	// A new stack gives its reason in French too, on the badge as in the log.
	p.stackViaButton()
	fr := p.badge()
	assert.True(t, strings.HasPrefix(fr.Text, "CPU"), "badge %q should say CPU", fr.Text)
	assert.NotEqual(t, en.Text, fr.Text, "the badge's reason is translated")
	assert.NotEqual(t, en.Detail, fr.Detail, "the badge's detail is translated")
	frLog := fallbackEntries(p.logItems())
	require.Greater(t, len(frLog), len(enLog), "the second stack logs its fallback again")
	requireLocalised(t, "fr", frLog)
	t.Logf("badge en %q / fr %q", en.Text, fr.Text)
	p.screenshot("cpu-fallback-fr")

	got = p.resultFloat32()
	_, err = compareWithTolerance(s.ref, got, Tolerance{})
	require.NoError(t, err, "the French run stacks the same")

	p.requireCleanConsole(consoleAllowed{
		text: "No available adapters",
		why: "Chromium's own notice that requestAdapter() found none: without --enable-unsafe-webgpu the " +
			"SwiftShader CPU adapter is blocklisted, which is the situation this test creates on purpose",
	})
}

// chromedpSelect picks an option of a <select> and fires change, as a user's choice does.
func chromedpSelect(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q;
		s.dispatchEvent(new Event("input", {bubbles: true})); s.dispatchEvent(new Event("change", {bubbles: true})); })()`, sel, value))
}

// fallbackEntries keeps the log rows that say the stack runs on the CPU and why.
func fallbackEntries(items []logItem) []logItem {
	var out []logItem
	for _, it := range items {
		if fallbackKey.MatchString(it.Key) {
			out = append(out, it)
		}
	}
	return out
}

var fallbackKey = regexp.MustCompile(`fallback|unavailable|using_cpu|no_adapter|webgpu_none`)

// requireLocalised checks that each row's text is its key's message in lang: the catalog
// template with its placeholders filled in, and nothing left untranslated.
func requireLocalised(t *testing.T, lang string, items []logItem) {
	t.Helper()
	msgs, err := locales.Raw(lang)
	require.NoError(t, err)
	for _, it := range items {
		tmpl, ok := msgs[it.Key]
		require.True(t, ok, "log key %q is not in locales/%s.json", it.Key, lang)
		assert.Regexp(t, templateRegexp(tmpl), it.Text, "log row %q in %s", it.Key, lang)
		assert.NotContains(t, it.Text, "{", "a placeholder was left unfilled")
	}
}

// templateRegexp matches a message of the catalog whatever its placeholders hold.
func templateRegexp(tmpl string) *regexp.Regexp {
	ph := regexp.MustCompile(`\{[a-z0-9_]+(:[^}]*)?\}`)
	parts := ph.Split(tmpl, -1)
	for i, s := range parts {
		parts[i] = regexp.QuoteMeta(s)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, `.*`))
}
