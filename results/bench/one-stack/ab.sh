#!/bin/bash
# Old (a1c1725) and new builds alternating, same sitting: model (GPT-2 small shape) and families (Llama, Pythia shapes).
OLD=/work/bench-old/src/RelpSae.Cli/bin/Release/net10.0/relp-sae
NEW=/work/main/src/RelpSae.Cli/bin/Release/net10.0/relp-sae
cp -r /work/main/src/RelpSae.Cli/bin/Release/net10.0 /tmp/bench/new-build
NEW=/tmp/bench/new-build/relp-sae
for round in 1 2; do
  for which in old new; do
    bin=$OLD; [ $which = new ] && bin=$NEW
    [ $round = 2 ] && [ $which = old ] && { bin=$NEW; which=new; } || { [ $round = 2 ] && { bin=$OLD; which=old; }; }
    echo "== round $round $which $(date +%T)"
    $bin bench --only model,families --threads 1,2 --reps 3 --json $which-r$round.json > $which-r$round.txt 2>&1
  done
done
echo "== done $(date +%T)"
