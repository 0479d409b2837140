#!/bin/bash
# GPT-2-small against the libtorch anchor kit, interleaved (the same command as every earlier sitting).
# usage: anchor-sitting.sh RELP_SAE KIT_DIR [suffix]
bin=$1 kit=$2 tag=${3:-}
{ echo "# $(date -u '+%F %T') UTC, $(git rev-parse --short HEAD), $(nproc) cores; before: $(uptime)"
  "$bin" bench --only model --interleave-anchor "$kit" --threads 1,2 --reps 3 --rounds 3 --json "gpt2-interleaved$tag.json"
  echo "# after: $(uptime)"; } > "gpt2-interleaved$tag.txt" 2>&1
