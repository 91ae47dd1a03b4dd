#!/usr/bin/env bash
# Stack throughput and accuracy: zmosaic against Siril on the same frames, in the same script
# (machines are noisy: only the ratio means something).
#
# Set: 32 uint16 Bayer (GRBG) frames of 1920×1080 from `zmosaic synth` (stars, sky gradient,
# Poisson + read noise, cosmic rays, satellite trails; hot pixels off because neither tool's
# rejection can see a defect present in every frame). Both tools: winsorized sigma clipping
# 3/3, no normalisation, no weights, mean. Accuracy: RMS against the noise-free truth sampled
# through the same CFA pattern, after a least-squares gain/offset fit (Siril rescales 16-bit data).
# Siril is skipped with a message when siril-cli is absent (apt-get install siril).
set -euo pipefail
cd "$(dirname "$0")/.."
ZM=${ZM:-bin/zmosaic}
FRAMES=${FRAMES:-32}
RUNS=${RUNS:-3}
dir=${BENCH_DIR:-$(mktemp -d /tmp/zmosaic-bench.XXXXXX)}
[ -x "$ZM" ] || go build -o "$ZM" ./native/cmd/zmosaic

echo "== stack benchmark: $FRAMES × 1920×1080 uint16 GRBG frames in $dir"
"$ZM" synth "$dir" --frames "$FRAMES" --width 1920 --height 1080 --bayer GRBG --hot-pixels 0 --seed 7 --quiet

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
rms() { "$ZM" compare --fit --cfa GRBG "$1" "$dir/truth.fits" | sed 's/.*"rms":\([0-9.eE+-]*\).*/\1/'; }

zm_cmd=("$ZM" stack "$dir/lights" -o "$dir/zmosaic.fits" --reject winsor --kappa-low 3 --kappa-high 3 --norm none --weight none --no-preview --quiet --backend cpu)
zm_t=$(best_of "${zm_cmd[@]}")
zm_rss=$( { /usr/bin/time -f '%M' "${zm_cmd[@]}" >/dev/null; } 2>&1 | tail -1 || echo "?")
zm_rms=$(rms "$dir/zmosaic.fits")
printf 'zmosaic  %8.3f s  peak %6s KiB  RMS vs truth %.4f\n' "$zm_t" "$zm_rss" "$zm_rms"
# Throughput: input samples (pixel × frame) per second, in millions.
printf 'zmosaic throughput %.1f Mpixel-frames/s (%d frames × 1920×1080)\n' "$(calc "$FRAMES * 1920 * 1080 / $zm_t / 1000000")" "$FRAMES"

# The same stack through the Runner on the GPU (any adapter: on lavapipe, Vulkan emulated on
# these same CPU cores, expect it to be slower than the CPU path).
if "$ZM" gpu --json >/dev/null 2>&1; then
	gpu_cmd=("${zm_cmd[@]}")
	gpu_cmd[${#gpu_cmd[@]} - 1]=gpu
	gpu_cmd[4]="$dir/zmosaic_gpu.fits"
	gpu_t=$(best_of "${gpu_cmd[@]}")
	gpu_rms=$(rms "$dir/zmosaic_gpu.fits")
	adapter=$("$ZM" gpu --json | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p' | head -1)
	printf 'zmosaic --backend gpu %8.3f s  RMS vs truth %.4f  (%s)\n' "$gpu_t" "$gpu_rms" "$adapter"
	printf 'ratio gpu/cpu time %.3f (above 1 = the GPU path is slower)\n' "$(calc "$gpu_t / $zm_t")"
else
	echo "no GPU adapter: skipping the --backend gpu run (apt-get install mesa-vulkan-drivers for lavapipe)"
fi

if ! command -v siril-cli >/dev/null; then
	echo "siril-cli not found: install Siril (apt-get install siril) to get the ratio"
	exit 0
fi
cat >"$dir/siril.ssf" <<SSF
requires 1.0.0
setext fits
cd $dir/lights
stack frame_ rej w 3 3 -nonorm -out=$dir/siril
SSF
siril_cmd=(siril-cli -s "$dir/siril.ssf")
si_t=$(best_of "${siril_cmd[@]}")
si_rss=$( { /usr/bin/time -f '%M' "${siril_cmd[@]}" >/dev/null; } 2>&1 | tail -1 || echo "?")
si_rms=$(rms "$dir/siril.fits")
printf 'siril    %8.3f s  peak %6s KiB  RMS vs truth %.4f   (%s)\n' "$si_t" "$si_rss" "$si_rms" "$(siril-cli --version 2>/dev/null | head -1)"
printf 'ratio zmosaic/siril time %.3f (below 1 = zmosaic faster), RMS %.4f (below 1 = zmosaic closer to truth)\n' \
	"$(calc "$zm_t / $si_t")" "$(calc "$zm_rms / $si_rms")"
