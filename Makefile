# zmosaic — developer entry points. `make demo` and `make test` are all a newcomer needs.
GO      ?= go
BIN     := bin/zmosaic
DEMO    ?= zmosaic-demo
WASMPKG  = $(shell $(GO) list ./... | grep -v '/native')

.PHONY: all build web demo test test-short lint wasm-check bench bench-siril memcheck clean

all: build

## build: the CLI, with the browser preview (web/static, zmosaic.wasm included) embedded for `zmosaic serve`
build: web
	$(GO) build -o $(BIN) ./native/cmd/zmosaic

## web: the browser preview's engine, web/static/zmosaic.wasm, and the wasm_exec.js of the same Go
## (in lib/wasm since Go 1.24, misc/wasm before); both are build outputs, ignored by git
web:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o web/static/zmosaic.wasm ./wasm
	@root=$$($(GO) env GOROOT); \
	if [ -f $$root/lib/wasm/wasm_exec.js ]; then cp $$root/lib/wasm/wasm_exec.js web/static/wasm_exec.js; \
	else cp $$root/misc/wasm/wasm_exec.js web/static/wasm_exec.js; fi

## demo: synthesise a small Seestar-like 3×3 mosaic of raw frames and run the whole pipeline on it (out/ in $(DEMO)/)
demo: build
	./$(BIN) demo $(DEMO)

## test: lint, the js/wasm build of every package outside native/, then the whole test suite
test: lint wasm-check
	$(GO) test -count=1 -timeout 20m ./...

## test-short: the quick tests only (skips the 1 GiB streaming-memory test)
test-short:
	$(GO) test -short -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

wasm-check:
	GOOS=js GOARCH=wasm $(GO) build $(WASMPKG) ./wasm

## bench: kernel benchmarks (CPU; GPU vs CPU in the same benchmark), then end to end:
## zmosaic CPU vs GPU vs Siril on the same frames, printed as ratios
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x ./cpu/ ./pipeline/
	$(GO) test -run '^$$' -bench 'GPUStackBand|Percentile|Stretch' -benchtime 3x ./compute/gpu/ | awk -f scripts/bench-ratios.awk
	./scripts/bench-stack.sh
	./scripts/bench-mosaic.sh

## memcheck: the 64 × 2048² float32 stack and a 102 MP mosaic under --mem-budget 256MiB, measured by /usr/bin/time -v
memcheck: build
	./scripts/memcheck.sh
	./scripts/memcheck-mosaic.sh

clean:
	rm -rf bin $(DEMO)
