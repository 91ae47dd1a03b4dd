package session

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/locales"
	"github.com/zmosaic/zmosaic/pipeline"
)

// ErrBusy is returned by Stack while another stack runs.
var ErrBusy = errors.New("session: a stack is already running")

// Env is what the Session needs from its host. Every field may be nil.
type Env struct {
	// Adapter describes the WebGPU adapter the browser would give (navigator.gpu
	// requestAdapter): keys name, vendor, architecture, description, fallback. It returns nil
	// when there is none. It is called from Stack's goroutine, so it may wait on a Promise.
	Adapter func(ctx context.Context) map[string]any
	// GPUErrors drains the WebGPU errors the browser reported since the last call (validation
	// and WGSL errors reach JavaScript only as uncaptured-error events). A stack that ran on
	// the GPU and left errors is run again on the CPU.
	GPUErrors func() []string
	// Open opens the GPU for a stack's Runner; nil = compute.OpenGPU. Tests inject fakes.
	Open compute.OpenFunc
}

// Hooks receive a stack's progress and events, possibly from several goroutines.
type Hooks struct {
	Progress func(phase string, done, total int)
	Event    func(ev map[string]any) // {key, level, message, params}
}

// file is one added frame and what its header said.
type file struct {
	name string
	data []byte
	info map[string]any
}

// Session holds the files of one page and its last stack.
type Session struct {
	env Env
	cat *locales.Catalog

	mu      sync.Mutex
	loc     *locales.Localizer
	files   []file
	running bool
	last    *Result
	adapter map[string]any // cached Env.Adapter answer
	probed  bool
}

// New creates a Session speaking the language closest to lang ("fr-FR" gives French).
func New(lang string, env Env) (*Session, error) {
	cat, err := locales.Load()
	if err != nil {
		return nil, err
	}
	return &Session{env: env, cat: cat, loc: cat.Localizer(lang)}, nil
}

// SetLang switches the language of later messages and returns the one chosen ("en" or "fr").
func (s *Session) SetLang(lang string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loc = s.cat.Localizer(lang)
	return s.loc.Lang()
}

// Lang is the language in use.
func (s *Session) Lang() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loc.Lang()
}

// T renders a message of the catalog in the current language.
func (s *Session) T(key string, params map[string]any) string {
	s.mu.Lock()
	loc := s.loc
	s.mu.Unlock()
	return loc.T(key, params)
}

// AddFile keeps a FITS file's bytes (the caller must not modify data afterwards) and reads its
// header. A file of the same name is replaced in place. An unreadable file is kept with ok
// false and a localised error, so that the page can list it; a stack skips it with an event.
func (s *Session) AddFile(name string, data []byte) map[string]any {
	info := map[string]any{"name": name, "ok": false, "width": 0, "height": 0, "channels": 0, "bitpix": 0, "wcs": false, "error": ""}
	if err := readHeader(name, data, info); err != nil {
		info["error"] = s.T("wasm_file_unreadable", map[string]any{"file": name, "error": err.Error()})
	} else {
		info["ok"] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := file{name: name, data: data, info: info}
	if i := s.index(name); i >= 0 {
		s.files[i] = f
	} else {
		s.files = append(s.files, f)
	}
	return clone(info)
}

// readHeader fills info from the first image HDU with data of a FITS file in memory.
func readHeader(name string, data []byte, info map[string]any) error {
	f, err := pipeline.MemoryFrame{FileName: name, Data: data}.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := f.Image("")
	if err != nil {
		return err
	}
	info["width"], info["height"], info["channels"], info["bitpix"] = h.Width, h.Height, h.Channels, h.Bitpix
	_, werr := wcs.FromHeader(h.Header)
	info["wcs"] = werr == nil
	return nil
}

// RemoveFile forgets a file; it reports whether one had that name.
func (s *Session) RemoveFile(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(name)
	if i < 0 {
		return false
	}
	s.files = slices.Delete(s.files, i, i+1)
	return true
}

// ClearFiles forgets every file (the last stack stays).
func (s *Session) ClearFiles() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files = nil
}

// Files lists the added files in the order they were added, as AddFile described them.
func (s *Session) Files() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]any, len(s.files))
	for i, f := range s.files {
		out[i] = clone(f.info)
	}
	return out
}

func (s *Session) index(name string) int {
	return slices.IndexFunc(s.files, func(f file) bool { return f.name == name })
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
