#!/bin/bash
# The build before the shared model stack (a1c1725) and this one alternating in one sitting (old, new, new, old):
# GPT-2 small shape (model) and the Llama and Pythia shapes (families), 1 and 2 threads in one process.
OLD=/tmp/old-build/src/RelpSae.Cli/bin/Release/net10.0/relp-sae
rm -rf /tmp/bench-new && cp -r /work/main/src/RelpSae.Cli/bin/Release/net10.0 /tmp/bench-new
NEW=/tmp/bench-new/relp-sae
cd "$(dirname "$0")"
for run in old-r1 new-r1 new-r2 old-r2; do
  bin=$OLD; [[ $run == new* ]] && bin=$NEW
  echo "== $run $(date +%T)"
  $bin bench --only model,families --threads 1,2 --reps 3 --json $run.json > $run.txt 2>&1
done
echo "== done $(date +%T)"
