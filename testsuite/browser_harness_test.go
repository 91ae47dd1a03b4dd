//go:build !(js && wasm)

package testsuite

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// The browser tests drive the real page (web/static + the wasm build of ./wasm) in Debian's
// headless chromium through the DevTools protocol, from the host: see
// shared/design/browser-webgpu-notes.md for why these flags and this setup.

// siteOnce builds the page once per `go test` run: the wasm takes ~10 s to compile, and every
// scenario serves the same folder.
var (
	siteOnce sync.Once
	siteDir  string // wasm + wasm_exec.js + web/static/*, removed by TestMain
	siteErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if siteDir != "" {
		os.RemoveAll(siteDir)
	}
	os.Exit(code)
}

// chromiumPath finds the browser: $ZMOSAIC_CHROMIUM, then Debian's binary itself (the
// /usr/bin/chromium wrapper only adds a harmless shell error, but skipping it keeps the
// logs clean), then whatever PATH offers.
func chromiumPath() string {
	if p := os.Getenv("ZMOSAIC_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/lib/chromium/chromium"); err == nil {
		return "/usr/lib/chromium/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// requireChromium skips without a browser, except in CI (ZMOSAIC_REQUIRE_BROWSER=1), where a
// missing browser must fail rather than silently drop the browser coverage.
func requireChromium(t *testing.T) string {
	t.Helper()
	p := chromiumPath()
	if p == "" {
		if os.Getenv("ZMOSAIC_REQUIRE_BROWSER") == "1" {
			t.Fatal("ZMOSAIC_REQUIRE_BROWSER=1 but chromium is not installed (apt-get install chromium)")
		}
		t.Skip("chromium is not installed (apt-get install chromium); skipping the browser tests")
	}
	return p
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// site returns the folder the page is served from, building it on first use.
func site(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	siteOnce.Do(func() { siteDir, siteErr = buildSite(root) })
	if siteErr != nil {
		t.Fatalf("building the page: %v", siteErr)
	}
	return siteDir
}

func buildSite(root string) (string, error) {
	dir, err := os.MkdirTemp("", "zmosaic-site-*")
	if err != nil {
		return "", err
	}
	// Copy the committed page first, then overwrite its build outputs with fresh ones: a stale
	// zmosaic.wasm left in web/static by `make web` must not be what gets tested.
	static := filepath.Join(root, "web", "static")
	if err := os.CopyFS(dir, os.DirFS(static)); err != nil {
		return dir, fmt.Errorf("copy %s: %w", static, err)
	}
	for _, name := range []string{"index.html", "app.js"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return dir, fmt.Errorf("web/static/%s is missing: %w", name, err)
		}
	}
	start := time.Now()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "zmosaic.wasm"), "./wasm")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		return dir, fmt.Errorf("GOOS=js GOARCH=wasm go build ./wasm: %v\n%s", err, out)
	}
	buildTime = time.Since(start)
	// wasm_exec.js must come from the toolchain that built the wasm.
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return dir, fmt.Errorf("go env GOROOT: %w", err)
	}
	gr := strings.TrimSpace(string(goroot))
	for _, p := range []string{filepath.Join(gr, "lib", "wasm", "wasm_exec.js"), filepath.Join(gr, "misc", "wasm", "wasm_exec.js")} {
		if b, err := os.ReadFile(p); err == nil {
			return dir, os.WriteFile(filepath.Join(dir, "wasm_exec.js"), b, 0o644)
		}
	}
	return dir, fmt.Errorf("wasm_exec.js not found under %s", gr)
}

var buildTime time.Duration

// serve serves the site on 127.0.0.1 (a secure context, so navigator.gpu exists) until the
// test ends. It answers /favicon.ico itself: the browser asks for one, and a 404 would be a
// console error that has nothing to do with the page.
func serve(t *testing.T, dir string) string {
	t.Helper()
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/favicon.ico":
			w.WriteHeader(http.StatusNoContent)
			return
		case strings.HasSuffix(r.URL.Path, ".wasm"):
			// WebAssembly.instantiateStreaming refuses anything else.
			w.Header().Set("Content-Type", "application/wasm")
		}
		w.Header().Set("Cache-Control", "no-store")
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// browser is one chromium process.
type browser struct {
	ctx   context.Context // the first tab's context; new tabs derive from it
	webgp bool            // started with --enable-unsafe-webgpu
}

// startBrowser launches headless chromium with a fresh profile; webgpu adds
// --enable-unsafe-webgpu, without which Chromium blocklists the SwiftShader CPU adapter and
// requestAdapter() resolves null (the situation of a user without a usable GPU).
func startBrowser(t *testing.T, webgpu bool) *browser {
	t.Helper()
	path := requireChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-gpu-shader-disk-cache", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
		// chromedp talks over a pipe (no debugging port), and the page is on 127.0.0.1: nothing
		// listens on or reaches another address.
	)
	if webgpu {
		opts = append(opts, chromedp.Flag("enable-unsafe-webgpu", true))
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	// Start the browser now, so that a failure to launch is reported as such.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return &browser{ctx: ctx, webgp: webgpu}
}

// page is one tab, with everything it wrote to the console.
type page struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	console []string // "error: …", "warning: …", "exception: …"
}

// newPage opens a tab with a console listener, loads the page and waits for the wasm. The
// tab lives at most a minute.
func (b *browser) newPage(t *testing.T, url string) *page {
	t.Helper()
	return b.newPageTimeout(t, url, time.Minute)
}

// newPageTimeout is newPage for a tab that may live longer (a mosaic on the wasm CPU path).
func (b *browser) newPageTimeout(t *testing.T, url string, life time.Duration) *page {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(b.ctx)
	ctx, cancel := context.WithTimeout(tab, life)
	t.Cleanup(func() { cancel(); cancelTab() })
	p := &page{t: t, ctx: ctx}
	if err := chromedp.Listen(tab, p.onEvent); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	p.do(chromedp.Navigate(url))
	// data-state="ready" comes after the zmosaic-ready event, i.e. when the wasm runs.
	p.waitJS(`window.zmosaic !== undefined && document.querySelector("#status")?.dataset.state === "ready"`, 30*time.Second)
	return p
}

// onEvent keeps error- and warning-level messages. WebGPU validation errors only show as
// Log.entryAdded warnings (the wgpu browser backend returns nil errors), hence both domains.
func (p *page) onEvent(ev any) {
	var line string
	switch e := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		if e.Type != cdpruntime.ConsoleAPICalledTypeError && e.Type != cdpruntime.ConsoleAPICalledTypeWarning {
			return
		}
		var parts []string
		for _, a := range e.Args {
			if len(a.Value) > 0 {
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = string(e.Type) + ": " + strings.Join(parts, " ")
	case *cdplog.EventEntryAdded:
		if e.Entry.Level != cdplog.EntryLevelError && e.Entry.Level != cdplog.EntryLevelWarning {
			return
		}
		line = string(e.Entry.Level) + ": [" + string(e.Entry.Source) + "] " + e.Entry.Text + " " + e.Entry.URL
	case *cdpruntime.EventExceptionThrown:
		line = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			line += " " + e.ExceptionDetails.Exception.Description
		}
	default:
		return
	}
	p.mu.Lock()
	p.console = append(p.console, line)
	p.mu.Unlock()
}

// consoleAllowed lists messages that are provably not the page's doing, each with the reason.
// A message matches when it contains the text.
type consoleAllowed struct{ text, why string }

// requireCleanConsole fails on any error, warning or exception the tab reported, except allowed.
func (p *page) requireCleanConsole(allowed ...consoleAllowed) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
next:
	for _, l := range p.console {
		for _, a := range allowed {
			if strings.Contains(l, a.text) {
				p.t.Logf("console (allowed: %s): %s", a.why, l)
				continue next
			}
		}
		p.t.Errorf("console: %s", l)
	}
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("chromedp: %v%s", err, p.consoleTail())
	}
}

func (p *page) consoleTail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.console) == 0 {
		return ""
	}
	return "\nconsole:\n  " + strings.Join(p.console, "\n  ")
}

// waitJS polls a JS condition until it is true.
func (p *page) waitJS(cond string, timeout time.Duration) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](cond,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		state := p.evalString(`(document.querySelector("#status")?.dataset.state ?? "no #status") + " / " + (document.querySelector("#log")?.innerText ?? "")`)
		p.t.Fatalf("waiting for %s: %v (page: %s)%s", cond, err, state, p.consoleTail())
	}
}

// evalJSON evaluates an expression (awaiting a Promise) and decodes its JSON value into v.
func (p *page) evalJSON(expr string, v any) {
	p.t.Helper()
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v%s", expr, err, p.consoleTail())
	}
	if err := json.Unmarshal(raw, v); err != nil {
		p.t.Fatalf("evaluate %s: decoding %s: %v", expr, raw, err)
	}
}

func (p *page) evalString(expr string) string {
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// upload hands files to #file-input as a user picking them would, and waits until the list
// shows every one of them.
func (p *page) upload(paths ...string) {
	p.t.Helper()
	p.do(chromedp.SetUploadFiles(chromedp.CSS("#file-input"), paths))
	p.waitJS(fmt.Sprintf(`document.querySelectorAll("#files li[data-name]").length === %d`, len(paths)), 20*time.Second)
}

// stackViaButton clicks #stack-btn and waits for data-state done (or fails on error).
func (p *page) stackViaButton() {
	p.t.Helper()
	// Mark the state, so that a "done" left by an earlier stack is not taken for this one.
	p.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#status").dataset.state = "clicked"`))
	p.do(chromedp.Click(chromedp.CSS("#stack-btn")))
	p.waitJS(`["done","error"].includes(document.querySelector("#status").dataset.state)`, 60*time.Second)
	if s := p.evalString(`document.querySelector("#status").dataset.state`); s != "done" {
		p.t.Fatalf("stack ended in state %q: %s%s", s, p.evalString(`document.querySelector("#status").innerText + " / " + document.querySelector("#log").innerText`), p.consoleTail())
	}
}

// stackResult is what zmosaic.stack resolves to (web_contract.md), plus the wall time the page
// measured around the call.
type stackResult struct {
	Width, Height, Channels int
	Frames                  int             `json:"frames"`
	Skipped                 json.RawMessage `json:"skipped"`
	Backend                 string          `json:"backend"`
	BackendReason           string          `json:"backend_reason"`
	Adapter                 map[string]any  `json:"adapter"`
	Seconds                 float64         `json:"seconds"`
	RejectedLowPct          float64         `json:"rejected_low_pct"`
	RejectedHighPct         float64         `json:"rejected_high_pct"`
	WallMS                  float64         `json:"wall_ms"`
}

// stackAPI runs zmosaic.stack with the page's defaults and the given backend.
func (p *page) stackAPI(backend string) stackResult {
	p.t.Helper()
	var r stackResult
	p.evalJSON(fmt.Sprintf(`(async () => {
		const o = Object.assign(zmosaic.defaults(), {backend: %q});
		const t0 = performance.now();
		const r = await zmosaic.stack(o);
		return Object.assign({}, r, {wall_ms: performance.now() - t0});
	})()`, backend), &r)
	return r
}

// resultFloat32 fetches zmosaic.resultFloat32() bit for bit (base64 of its bytes: JSON would
// lose NaN and the last bits).
func (p *page) resultFloat32() []float32 {
	p.t.Helper()
	raw := p.bytesOf(`zmosaic.resultFloat32()`)
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

// bytesOf fetches the Uint8Array an expression gives, as base64.
func (p *page) bytesOf(expr string) []byte {
	p.t.Helper()
	var b64 string
	p.evalJSON(`(() => {
		const v = `+expr+`;
		const u = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
		let s = "";
		for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
		return btoa(s);
	})()`, &b64)
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		p.t.Fatal(err)
	}
	return raw
}

// fitsBytes decodes zmosaic.fitsBytes(), the file #download-fits saves.
func (p *page) fitsBytes() *fits.Image {
	p.t.Helper()
	raw := p.bytesOf(`zmosaic.fitsBytes()`)
	f, err := fits.NewReader(bytes.NewReader(raw), int64(len(raw)), "stack.fits")
	if err != nil {
		p.t.Fatalf("zmosaic.fitsBytes(): %v", err)
	}
	defer f.Close()
	hdu, err := f.Image("")
	if err != nil {
		p.t.Fatalf("zmosaic.fitsBytes(): %v", err)
	}
	img, err := hdu.ReadImage()
	if err != nil {
		p.t.Fatalf("zmosaic.fitsBytes(): %v", err)
	}
	return img
}

// screenshot writes a full-page PNG into the test's artifact folder and logs its path.
func (p *page) screenshot(name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Errorf("screenshot: %v", err)
		return
	}
	path := filepath.Join(p.t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Errorf("screenshot: %v", err)
		return
	}
	p.t.Logf("screenshot: %s", path)
}
