#!/bin/bash
# The real-shape sitting: Gemma-2-2B's shapes (scripts/real_shape_checkpoints.py gemma-2-2b, bfloat16), held as
# stored (bfloat16) and widened (--dtype f32); uptime before and after each run says how loaded the machine was.
# usage: sitting.sh RELP_SAE MODEL_DIR [suffix]
set -e
bin=$1 model=$2 tag=${3:-}
for dtype in auto f32; do
  { echo "# $(date -u '+%F %T') UTC, $(git rev-parse --short HEAD), $(nproc) cores; before: $(uptime)"
    "$bin" bench --only real --model "$model" --dtype $dtype --threads 1,2 --reps 3 --warmup 1 --json "real-$dtype$tag.json"
    echo "# after: $(uptime)"; } > "real-$dtype$tag.txt" 2>&1
done
