#!/usr/bin/env bash
# Mosaic throughput and accuracy: zmosaic against SWarp on the same frames, in the same script
# (machines are noisy: only the ratio means something).
#
# Set: 16 float32 frames of 1024×1024 from `zmosaic synth --mosaic 4x4` (30 % overlap, every panel
# rotated 3°, each frame with its own TAN WCS; hot pixels off). Both tools: Lanczos-3 resampling,
# weighted co-addition, no background subtraction, 2.4″/px. SWarp gets zmosaic's own output grid
# (a header file beside its output, the documented way to impose a grid, rotation included), so
# both resample onto the same pixels. Accuracy: a second run of each tool onto the grid of the
# noise-free truth (zmosaic --grid-from truth.fits, SWarp with truth's header), then the RMS
# against truth after a least-squares gain/offset fit, over pixels both have (SWarp blanks
# zero-weight pixels to NaN). zmosaic matches sky offsets between panels and SWarp does not: the
# fit removes one global offset only, so part of the RMS gap is that matching, not resampling.
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
zm_rms=$(rms "$dir/zm_truthgrid.fits")
printf 'zmosaic  %8.3f s  peak %7s KiB  RMS vs truth %.4f (%s)\n' "$zm_t" "$zm_rss" "$zm_rms" "$(fit_note "$dir/zm_truthgrid.fits")"
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
		-RESAMPLING_TYPE LANCZOS3 -COMBINE_TYPE WEIGHTED -SUBTRACT_BACK N -BLANK_BADPIXELS Y \
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
sw_grid=$("$ZM" info --json "$dir/sw.fits" | tr -d ' \n' | sed 's/.*"width":\([0-9]*\),"height":\([0-9]*\),.*/\1×\2/')
sw_rms=$(rms "$dir/sw_truthgrid.fits")
printf 'swarp    %8.3f s  peak %7s KiB  RMS vs truth %.4f (%s)   (%s, grid %s)\n' "$sw_t" "$sw_rss" "$sw_rms" "$(fit_note "$dir/sw_truthgrid.fits")" \
	"$("$swarp" -v 2>&1 | head -1)" "$sw_grid"
printf 'ratio zmosaic/swarp time %.3f (below 1 = zmosaic faster), RMS %.4f (below 1 = zmosaic closer to truth)\n' \
	"$(calc "$zm_t / $sw_t")" "$(calc "$zm_rms / $sw_rms")"
