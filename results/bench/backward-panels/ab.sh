#!/bin/bash
# The GPT-2 model rows on the build before the backward's panel changes (b7da3bd: every dy·Wᵀ tiled, blocks of W
# transposed 8×8 into a buffer) and on the build after them, alternating old-new-new-old in one sitting, 1 and 2 threads.
# usage: ab.sh OLD_RELP_SAE NEW_RELP_SAE
old=$1 new=$2
for run in old-1 new-1 new-2 old-2; do
  bin=$old; [[ $run == new* ]] && bin=$new
  { echo "# $run $(date -u '+%T') UTC; before: $(uptime)"; "$bin" bench --only model --threads 1,2 --reps 3; echo "# after: $(uptime)"; } > "ab-$run.txt" 2>&1
done
