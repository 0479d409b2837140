#!/bin/bash
# Peak resident memory of `attribute` (gradient and relp, 32 prompt ids) on a folder written by
# scripts/real_shape_checkpoints.py, beside the tool's own estimate of the weights' size once packed.
# usage: scripts/measure_memory.sh MODEL_DIR [more attribute options, e.g. --dtype bf16]
# (RELP_SAE: the binary to run; default the Release build in this tree)
set -euo pipefail
dir=$1
shift
cli=${RELP_SAE:-$(dirname "$0")/../src/RelpSae.Cli/bin/Release/net10.0/relp-sae}
sae=$(find "$dir/sae" -name params.npz | head -1)
ids=$(seq -s, 2 33)
json=$(mktemp)
/usr/bin/time -v "$cli" attribute --model "$dir" --sae "$sae" --prompt-ids "$ids" --methods gradient,relp --json "$json" "$@" \
  > /dev/null 2> "$json.time" || { tail -3 "$json.time"; exit 1; }
python3 - "$json" "$json.time" <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[2]).read()).group(1)) * 1024
wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", open(sys.argv[2]).read()).group(1)
print(f"peak resident {rss / 2**30:.2f} GiB; weights held ({doc['weights_held']}, the tool's estimate) {doc['weights_bytes'] / 2**30:.2f} GiB; wall {wall}")
PY
rm -f "$json" "$json.time"
