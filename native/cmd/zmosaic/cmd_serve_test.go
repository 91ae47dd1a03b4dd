package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWebHandlerServesThePageAndTheWasm(t *testing.T) {
	static := fstest.MapFS{
		"index.html":   {Data: []byte("<!doctype html><p>the page</p>")},
		"zmosaic.wasm": {Data: []byte("\x00asm\x01\x00\x00\x00")},
	}
	h, hasWasm := webHandler(static, "build it", "en")
	require.True(t, hasWasm)
	srv := httptest.NewServer(h)
	defer srv.Close()

	body, resp := get(t, srv.URL+"/")
	assert.Contains(t, body, "the page")
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	_, resp = get(t, srv.URL+"/zmosaic.wasm")
	assert.Equal(t, "application/wasm", resp.Header.Get("Content-Type"), "instantiateStreaming needs this type")
	_, resp = get(t, srv.URL+"/nothing.js")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestWebHandlerExplainsMakeWebWhenTheWasmIsMissing(t *testing.T) {
	static := fstest.MapFS{"index.html": {Data: []byte("the page")}, "app.js": {Data: []byte("// js")}}
	h, hasWasm := webHandler(static, "run <make web>", "fr")
	require.False(t, hasWasm)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, p := range []string{"/", "/index.html"} {
		body, resp := get(t, srv.URL+p)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, body, `<p id="no-wasm">run &lt;make web&gt;</p>`, p)
		assert.Contains(t, body, `lang="fr"`)
	}
	body, _ := get(t, srv.URL+"/app.js")
	assert.Equal(t, "// js", body, "the other files are still served")
}

func TestPageURLNamesALoopbackHost(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080/"},
		{"0.0.0.0:9000", "http://localhost:9000/"},
		{"[::]:9000", "http://localhost:9000/"},
		{"[::1]:80", "http://[::1]:80/"},
	}
	for _, tc := range tests {
		a, err := net.ResolveTCPAddr("tcp", tc.addr)
		require.NoError(t, err)
		assert.Equal(t, tc.want, pageURL(a), tc.addr)
	}
}

// syncBuffer is a bytes.Buffer safe to read while the command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestServeCommandServesTheEmbeddedPageUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, &out, &errb) }()

	re := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`)
	var url string
	require.Eventually(t, func() bool { url = re.FindString(out.String()); return url != "" }, 10*time.Second, 10*time.Millisecond,
		"no address printed; stderr: %s", errb.String())
	body, resp := get(t, url)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "zmosaic")

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop when its context ended")
	}
}

func TestServeCommandRejectsArgumentsAndBusyAddresses(t *testing.T) {
	code, _, stderr := zm(t, "serve", "extra")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "extra")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	code, _, stderr = zm(t, "serve", "--addr", ln.Addr().String())
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "web server: ")
}

func get(t *testing.T, url string) (string, *http.Response) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b), resp
}
