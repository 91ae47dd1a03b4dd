#!/usr/bin/env bash
# Mosaic memory check: 25 float32 panels of 2400×2400 (5×5, 20 % overlap, rotated 3°) give a
# mosaic of about 10.1k × 10.1k px (≥ 100 MP). zmosaic mosaic streams it band by band to disk
# with --mem-budget 256MiB and prints /usr/bin/time -v's figures, the memory plan and the
# output sizes. Disk: about 2 GB in $MEM_DIR (kept between runs when set).
#
# BACKEND (default cpu) is passed to --backend. On the CPU backend the peak resident set must
# stay within the budget + 48 MiB: the plan keeps the live pixel buffers under the budget, the
# CLI caps the Go heap at budget + 16 MiB (debug.SetMemoryLimit), and the binary, stacks and
# runtime take the rest. Any other backend loads a Vulkan driver outside the Go heap (lavapipe
# with LLVM: about 50 MiB, even when the software adapter is then skipped), so its limit is
# 400 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
ZM=${ZM:-bin/zmosaic}
BACKEND=${BACKEND:-cpu}
BUDGET_MIB=256
[ -x "$ZM" ] || go build -o "$ZM" ./native/cmd/zmosaic
dir=${MEM_DIR:-$(mktemp -d /tmp/zmosaic-memmosaic.XXXXXX)}
echo "== 5×5 panels of 2400² float32 in $dir"
[ -d "$dir/lights" ] || "$ZM" synth "$dir" --mosaic 5x5 --overlap 0.2 --rotate 3 --frames 1 --width 2400 --height 2400 \
	--hot-pixels 0 --artefacts=false --quiet
rm -f "$dir/truth.fits" # not needed here; keeps the disk use down
/usr/bin/time -v "$ZM" mosaic "$dir/lights" -o "$dir/mosaic.fits" --mem-budget ${BUDGET_MIB}MiB --backend "$BACKEND" \
	--report "$dir/report.json" --quiet 2>"$dir/time.txt"
grep -E "Maximum resident|Elapsed|User time|System time" "$dir/time.txt"
echo "plan: $(grep -A7 '"mosaic_memory_plan"' "$dir/report.json" | grep -E '"(bands|estimated_mb|rows|slots)"' | tr -d ' \n' || true)"
"$ZM" info "$dir/mosaic.fits" 2>/dev/null | head -5 || true
ls -l "$dir"/mosaic*
kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
limit=400
[ "$BACKEND" = cpu ] && limit=$((BUDGET_MIB + 48))
echo "peak RSS $((kb / 1024)) MiB with --backend $BACKEND (limit $limit MiB, budget $BUDGET_MIB MiB)"
[ "$kb" -lt $((limit * 1024)) ]
