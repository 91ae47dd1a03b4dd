#!/usr/bin/env bash
# Mosaic throughput and accuracy: zmosaic against SWarp on the same frames, in the same script
# (machines are noisy: only the ratio means something).
#
# Set: 16 float32 frames of 1024×1024 from `zmosaic synth --mosaic 4x4` (30 % overlap, every panel
# rotated 3°, each frame with its own TAN WCS; hot pixels off). Both tools: Lanczos-3 resampling,
# weighted co-addition, no background subtraction, no flux rescaling, 2.4″/px. SWarp gets zmosaic's
# own output grid (a header file beside its output, the documented way to impose a grid, rotation
# included), so both resample onto the same pixels.
# Accuracy: a second run of each tool onto the grid of the noise-free truth (zmosaic --grid-from
# truth.fits, SWarp with truth's header), then the RMS against truth after a least-squares
# gain/offset fit, over the pixels BOTH tools cover. SWarp writes 0, not NaN, where no input
# lands (its weight map is 0 there; BLANK_BADPIXELS only sets such pixels to 0): compared as is,
# those zeros against a sky of ~1000 dominate the fit (it once gave a SWarp "gain" of 0.11), so a
# small stdlib-only Go helper (written below, run with `go run`) blanks to NaN, in both mosaics,
# every pixel outside zmosaic's data ∩ SWarp's weight > 0. SWarp's flux scaling is switched off
# (FSCALASTRO_TYPE NONE, no FLXSCALE keyword read): zmosaic keeps surface brightness and the
# frames share one pixel scale anyway. zmosaic matches sky offsets between panels and SWarp does
# not: the fit removes one global offset only. Both RMS are dominated by the frames' photon
# noise (σ ≈ 32 ADU per frame), so equal RMS means equal accuracy to within that noise; zmosaic's
# feathered weights average overlaps less evenly than SWarp's flat ones, which costs ~0.5 % of
# RMS here (with --feather 0 zmosaic's RMS is below SWarp's).
# SWarp is skipped with a message when absent (apt-get install swarp: the binary is SWarp).
set -euo pipefail
cd "$(dirname "$0")/.."
ZM=${ZM:-bin/zmosaic}
RUNS=${RUNS:-3}
SCALE=2.4 # arcsec/px: what synth gives every frame, and zmosaic's median-of-inputs default
dir=${BENCH_DIR:-$(mktemp -d /tmp/zmosaic-bench-mosaic.XXXXXX)}
[ -x "$ZM" ] || go build -o "$ZM" ./native/cmd/zmosaic

echo "== mosaic benchmark: 4×4 panels of 1024×1024 float32, overlap 0.3, rotated 3°, in $dir"
"$ZM" synth "$dir" --mosaic 4x4 --overlap 0.3 --rotate 3 --frames 1 --width 1024 --height 1024 --hot-pixels 0 --artefacts=false --quiet

# calc EXPR: floating-point arithmetic with awk (bc is not on every machine).
calc() { awk "BEGIN { print $1 }"; }

# best_of CMD...: the fastest wall time of $RUNS runs, in seconds (page cache warm for all).
best_of() {
	local best="" t
	for _ in $(seq "$RUNS"); do
		local s e
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s.%N)
		t=$(calc "$e - $s")
		if [ -z "$best" ] || [ "$(calc "($t < $best) ? 1 : 0")" = 1 ]; then best=$t; fi
	done
	printf '%.3f' "$best"
}
# peak_rss CMD...: the peak resident set of one run, in KiB (GNU time; "?" when it fails).
peak_rss() {
	local f="$dir/time.out"
	if /usr/bin/time -o "$f" -f '%M' "$@" >/dev/null 2>&1; then tail -1 "$f"; else echo "?"; fi
}
rms() { "$ZM" compare --fit "$1" "$dir/truth.fits" | sed 's/.*"rms":\([0-9.eE+-]*\).*/\1/'; }
# rms_raw FITS: the RMS against truth without the fit (a global offset included).
rms_raw() { "$ZM" compare "$1" "$dir/truth.fits" | sed 's/.*"rms":\([0-9.eE+-]*\).*/\1/'; }
# fit_note FITS: the fitted gain and the pixel count behind an RMS (a gain far from 1 or very
# different counts mean the RMS is dominated by something other than resampling: read with care).
fit_note() { "$ZM" compare --fit "$1" "$dir/truth.fits" | sed 's/.*"pixels":\([0-9]*\).*"gain":\([0-9.eE+-]*\).*/fit gain \2 over \1 px/'; }

# wcs_head FITS: the primary header's size and WCS cards as a SWarp output-grid header (80-column
# cards up to END; the header of these files fits well within the first 20 blocks).
wcs_head() {
	head -c 57600 "$1" | fold -w 80 | sed '/^END/q' |
		grep -E '^(NAXIS[12] |CTYPE[12]|CRPIX[12]|CRVAL[12]|CUNIT[12]|CD[12]_[12]|PC[12]_[12]|CDELT[12]|RADESYS|EQUINOX|LONPOLE|LATPOLE)'
	echo "END"
}

zm_cmd=("$ZM" mosaic "$dir/lights" -o "$dir/zm.fits" --interp lanczos3 --no-preview --quiet)
zm_t=$(best_of "${zm_cmd[@]}")
zm_rss=$(peak_rss "${zm_cmd[@]}")
# The output grid, for the record (and for SWarp below).
grid=$("$ZM" info --json "$dir/zm.fits" | tr -d ' \n' |
	sed 's/.*"width":\([0-9]*\),"height":\([0-9]*\),.*"rotation_deg":\([0-9.eE+-]*\),.*"center":\[\([0-9.eE+-]*\),\([0-9.eE+-]*\)\].*/\1×\2 px, rotation \3°, centre \4 \5/')
echo "output grid: $grid at ${SCALE}″/px"

# Accuracy run: the same mosaic onto the truth's grid.
"$ZM" mosaic "$dir/lights" -o "$dir/zm_truthgrid.fits" --grid-from "$dir/truth.fits" --interp lanczos3 --no-preview --quiet
printf 'zmosaic  %8.3f s  peak %7s KiB  RMS vs truth %.4f (%s; all its pixels)\n' "$zm_t" "$zm_rss" \
	"$(rms "$dir/zm_truthgrid.fits")" "$(fit_note "$dir/zm_truthgrid.fits")"
printf 'zmosaic throughput %.1f Minput-pixels/s (16 × 1024×1024)\n' "$(calc "16 * 1024 * 1024 / $zm_t / 1000000")"

swarp=""
for c in SWarp swarp; do command -v "$c" >/dev/null && swarp=$c && break; done
if [ -z "$swarp" ]; then
	echo "SWarp not found: install it (apt-get install swarp) to get the ratio"
	exit 0
fi
# run_swarp OUT.fits [WRAPPER...]: SWarp onto the grid in OUT.head (SWarp reads the header file
# named after its output image), run under WRAPPER when given. No config file: every setting is
# on the command line.
run_swarp() {
	local out=$1
	shift
	(cd "$dir" && "$@" "$swarp" lights/*.fits -c /dev/null -IMAGEOUT_NAME "$out" -WEIGHTOUT_NAME "${out%.fits}.weight.fits" \
		-RESAMPLING_TYPE LANCZOS3 -COMBINE_TYPE WEIGHTED -WEIGHT_TYPE NONE -SUBTRACT_BACK N -BLANK_BADPIXELS Y \
		-FSCALASTRO_TYPE NONE -FSCALE_KEYWORD ZM_NOSUCHKEY -FSCALE_DEFAULT 1 \
		-WRITE_XML N -VERBOSE_TYPE QUIET -PIXELSCALE_TYPE MANUAL -PIXEL_SCALE "$SCALE" \
		-RESAMPLE_DIR "$dir" -DELETE_TMPFILES Y)
}
wcs_head "$dir/zm.fits" >"$dir/sw.head"
wcs_head "$dir/truth.fits" >"$dir/sw_truthgrid.head"
sw_t=$(best_of run_swarp sw.fits)
sw_rss=?
if /usr/bin/time -o "$dir/time.out" -f '%M' true 2>/dev/null; then
	run_swarp sw.fits /usr/bin/time -o "$dir/time.out" -f '%M' >/dev/null 2>&1 && sw_rss=$(tail -1 "$dir/time.out")
fi
run_swarp sw_truthgrid.fits >/dev/null 2>&1
sw_grid=$("$ZM" info --json "$dir/sw.fits" | tr -d ' \n' | sed 's/.*"width":\([0-9]*\),"height":\([0-9]*\),.*"rotation_deg":\([0-9.eE+-]*\),.*/\1×\2 px, rotation \3°/')

# Common pixels: see the header comment. The helper needs only the standard library.
cat >"$dir/fitsmask.go" <<'EOF'
// fitsmask rewrites two float32 mosaics with NaN outside the pixels both cover: the first has
// NaN where it has no data, the second 0 with weight 0 in its weight map (SWarp).
package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

type image struct {
	head []byte
	pix  []float32
}

func read(name string) (image, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return image{}, err
	}
	cards, end := map[string]string{}, -1
	for off := 0; off+80 <= len(b); off += 80 {
		c := string(b[off : off+80])
		if strings.HasPrefix(c, "END ") {
			end = off + 80
			break
		}
		if c[8] == '=' {
			v, _, _ := strings.Cut(c[10:], "/")
			cards[strings.TrimSpace(c[:8])] = strings.TrimSpace(v)
		}
	}
	data := (end + 2879) / 2880 * 2880
	w, _ := strconv.Atoi(cards["NAXIS1"])
	h, _ := strconv.Atoi(cards["NAXIS2"])
	if end < 0 || cards["BITPIX"] != "-32" || cards["NAXIS"] != "2" || w <= 0 || h <= 0 || len(b) < data+4*w*h {
		return image{}, fmt.Errorf("fitsmask: %s: want a 2-D float32 primary image", name)
	}
	pix := make([]float32, w*h)
	for i := range pix {
		pix[i] = math.Float32frombits(binary.BigEndian.Uint32(b[data+4*i:]))
	}
	return image{head: b[:data], pix: pix}, nil
}

func write(name string, img image) error {
	n := len(img.head) + 4*len(img.pix)
	b := make([]byte, (n+2879)/2880*2880)
	copy(b, img.head)
	for i, v := range img.pix {
		binary.BigEndian.PutUint32(b[len(img.head)+4*i:], math.Float32bits(v))
	}
	return os.WriteFile(name, b, 0o644)
}

func main() {
	var imgs [3]image
	for i := range imgs {
		var err error
		if imgs[i], err = read(os.Args[1+i]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	a, b, wt := imgs[0], imgs[1], imgs[2]
	if len(a.pix) != len(b.pix) || len(b.pix) != len(wt.pix) {
		fmt.Fprintln(os.Stderr, "fitsmask: the images differ in size")
		os.Exit(1)
	}
	common := 0
	for i := range a.pix {
		if a.pix[i] == a.pix[i] && b.pix[i] == b.pix[i] && wt.pix[i] > 0 {
			common++
			continue
		}
		a.pix[i], b.pix[i] = float32(math.NaN()), float32(math.NaN())
	}
	for i, img := range []image{a, b} {
		if err := write(os.Args[4+i], img); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	fmt.Println(common)
}
EOF
common=$(go run "$dir/fitsmask.go" "$dir/zm_truthgrid.fits" "$dir/sw_truthgrid.fits" "$dir/sw_truthgrid.weight.fits" \
	"$dir/zm_common.fits" "$dir/sw_common.fits")
zm_rms=$(rms "$dir/zm_common.fits")
sw_rms=$(rms "$dir/sw_common.fits")
# The same blend as SWarp's (flat weights: no edge feathering); feathering trades a little noise
# in the overlaps for invisible seams, so this is the like-for-like accuracy figure.
"$ZM" mosaic "$dir/lights" -o "$dir/zm_flat.fits" --grid-from "$dir/truth.fits" --interp lanczos3 --feather 0 --no-preview --quiet
go run "$dir/fitsmask.go" "$dir/zm_flat.fits" "$dir/sw_truthgrid.fits" "$dir/sw_truthgrid.weight.fits" \
	"$dir/zm_flat_common.fits" "$dir/sw_common.fits" >/dev/null
zm_flat_rms=$(rms "$dir/zm_flat_common.fits")
echo "accuracy on the truth grid over the $common pixels both tools cover:"
printf 'zmosaic  RMS vs truth %.4f (%s; without the fit %.4f)\n' "$zm_rms" "$(fit_note "$dir/zm_common.fits")" "$(rms_raw "$dir/zm_common.fits")"
printf 'zmosaic  RMS vs truth %.4f with --feather 0 (flat weights, as SWarp)\n' "$zm_flat_rms"
printf 'swarp    RMS vs truth %.4f (%s; without the fit %.4f)\n' "$sw_rms" "$(fit_note "$dir/sw_common.fits")" "$(rms_raw "$dir/sw_common.fits")"
printf 'swarp    %8.3f s  peak %7s KiB  (%s, grid %s)\n' "$sw_t" "$sw_rss" "$("$swarp" -v 2>&1 | head -1)" "$sw_grid"
printf 'ratio zmosaic/swarp time %.3f (below 1 = zmosaic faster), RMS %.4f (below 1 = zmosaic closer to truth)\n' \
	"$(calc "$zm_t / $sw_t")" "$(calc "$zm_rms / $sw_rms")"
printf 'ratio zmosaic/swarp RMS with the same flat weights %.4f\n' "$(calc "$zm_flat_rms / $sw_rms")"
