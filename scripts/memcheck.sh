#!/usr/bin/env bash
# Streaming memory check: 64 float32 frames of 2048×2048 (1 GiB of pixels) stacked with
# --mem-budget 256MiB must peak below 400 MiB resident. Prints /usr/bin/time -v's figures.
set -euo pipefail
cd "$(dirname "$0")/.."
ZM=${ZM:-bin/zmosaic}
[ -x "$ZM" ] || go build -o "$ZM" ./native/cmd/zmosaic
dir=${MEM_DIR:-$(mktemp -d /tmp/zmosaic-mem.XXXXXX)}
echo "== 64 × 2048² float32 frames in $dir"
"$ZM" synth "$dir" --frames 64 --width 2048 --height 2048 --quiet
/usr/bin/time -v "$ZM" stack "$dir/lights" -o "$dir/stack.fits" --mem-budget 256MiB --no-preview --report "$dir/report.json" 2>"$dir/time.txt"
grep -E "Maximum resident|Elapsed|User time|System time" "$dir/time.txt"
kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
echo "peak RSS $((kb / 1024)) MiB (limit 400 MiB)"
[ "$kb" -lt $((400 * 1024)) ]
