#!/bin/bash
# Gemma-2-2B's real-shape rows (bf16 as stored) on the build before (old) and this one (new), alternating.
for v in old new new old; do
  { echo "# $v $(date -u '+%T') UTC; $(uptime)"; dotnet /tmp/ab-$v/relp-sae.dll bench --only real --model /tmp/gemma2b --threads 1,2 --reps 3 --warmup 1; } >> real-ab-$v.txt 2>&1
done
