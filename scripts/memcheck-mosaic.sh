#!/usr/bin/env bash
# Mosaic memory check: 25 float32 panels of 2400×2400 (5×5, 20 % overlap, rotated 3°) give a
# mosaic of about 10.1k × 10.1k px (≥ 100 MP). zmosaic mosaic streams it band by band to disk
# with --mem-budget 256MiB; the peak resident set must stay below 400 MiB (the budget plus the
# Go runtime, the binary and the page cache of the file being read is not counted by RSS).
# Prints /usr/bin/time -v's figures and the output sizes. Disk: about 2 GB in $MEM_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
ZM=${ZM:-bin/zmosaic}
[ -x "$ZM" ] || go build -o "$ZM" ./native/cmd/zmosaic
dir=${MEM_DIR:-$(mktemp -d /tmp/zmosaic-memmosaic.XXXXXX)}
echo "== 5×5 panels of 2400² float32 in $dir"
[ -d "$dir/lights" ] || "$ZM" synth "$dir" --mosaic 5x5 --overlap 0.2 --rotate 3 --frames 1 --width 2400 --height 2400 \
	--hot-pixels 0 --artefacts=false --quiet
rm -f "$dir/truth.fits" # not needed here; keeps the disk use down
/usr/bin/time -v "$ZM" mosaic "$dir/lights" -o "$dir/mosaic.fits" --mem-budget 256MiB --report "$dir/report.json" --quiet 2>"$dir/time.txt"
grep -E "Maximum resident|Elapsed|User time|System time" "$dir/time.txt"
"$ZM" info "$dir/mosaic.fits" 2>/dev/null | head -5 || true
ls -l "$dir"/mosaic*
kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
echo "peak RSS $((kb / 1024)) MiB (limit 400 MiB)"
[ "$kb" -lt $((400 * 1024)) ]
