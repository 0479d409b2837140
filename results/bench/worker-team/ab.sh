#!/bin/bash
# The GPT-2 model rows on the build before one team of threads (9fb05df: attention heads and row bands on the .NET
# thread pool, GEMM workers asleep between products) and on the build with it, alternating old-new-new-old, 1 and 2 threads.
# usage: ab.sh OLD_RELP_SAE NEW_RELP_SAE
old=$1 new=$2
for run in old-1 new-1 new-2 old-2; do
  bin=$old; [[ $run == new* ]] && bin=$new
  { echo "# $run $(date -u '+%T') UTC; before: $(uptime)"; "$bin" bench --only model --threads 1,2 --reps 3; echo "# after: $(uptime)"; } > "ab-$run.txt" 2>&1
done
