package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"time"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/web"
)

// serveCommand serves the in-browser preview embedded in the binary (package web) until
// Ctrl+C. The default address is loopback: browsers expose WebGPU to secure contexts only, and
// http://127.0.0.1 is one, while a LAN address over plain http is not.
func serveCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	addr := fs.String("addr", "127.0.0.1:8080", a.t("flag_addr", nil))
	open := fs.Bool("open", false, a.t("flag_open", nil))
	return func(args []string) int {
		if len(args) != 0 {
			a.errorf("usage_error", map[string]any{"command": "serve", "error": fmt.Sprintf("unexpected arguments %q", args)})
			return exitUsage
		}
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			a.errorf("serve_failed", map[string]any{"error": err.Error()})
			return exitFailure
		}
		h, hasWasm := webHandler(web.Static, a.t("serve_no_wasm_page", nil), a.lang)
		if !hasWasm {
			a.warnf("serve_no_wasm", nil)
		}
		url := pageURL(ln.Addr())
		// The address goes to stdout even with --quiet: with --addr 127.0.0.1:0 it is the only
		// way to learn the port.
		fmt.Fprintln(a.stdout, a.t("serve_listening", map[string]any{"url": url}))
		if *open {
			if err := openBrowser(url); err != nil {
				a.warnf("serve_open_failed", map[string]any{"url": url, "error": err.Error()})
			}
		}
		if err := serve(a.ctx, ln, h); err != nil {
			a.errorf("serve_failed", map[string]any{"error": err.Error()})
			return exitFailure
		}
		return exitOK
	}
}

// serve runs an HTTP server on ln until ctx ends, then gives requests in flight 5 s to finish.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err // the listener failed: ctx is still live
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-done; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// webHandler serves the page's files. When the binary was built without `make web` (no
// zmosaic.wasm), the page itself is replaced by one that says how to build it; it reports
// whether the wasm is there.
func webHandler(static fs.FS, missingText, lang string) (http.Handler, bool) {
	files := http.FileServerFS(static)
	_, err := fs.Stat(static, web.WasmFile)
	hasWasm := err == nil
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A rebuilt wasm must not be shadowed by a cached one.
		w.Header().Set("Cache-Control", "no-cache")
		if !hasWasm && (r.URL.Path == "/" || r.URL.Path == "/index.html") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<!doctype html>\n<html lang=%q><head><meta charset=\"utf-8\"><title>zmosaic</title></head>\n"+
				"<body><h1>zmosaic</h1><p id=\"no-wasm\">%s</p><pre>make web\nmake build</pre></body></html>\n",
				lang, html.EscapeString(missingText))
			return
		}
		files.ServeHTTP(w, r)
	}), hasWasm
}

// pageURL is the address to open for a listener: a wildcard host becomes localhost, which
// browsers treat as a secure context.
func pageURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// openBrowser asks the desktop to open url; it does not wait for the browser.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it; its exit status says nothing about the page
	return nil
}
