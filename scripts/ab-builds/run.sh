#!/bin/bash
# Times two commits of the library against each other in one process, runs alternating A B B A.
# usage: scripts/ab-builds/run.sh REV_A REV_B SECONDS WORKLOAD...
#   WORKLOAD: gemm THREADS M K N [T] [bf16] | attn TOKENS [forward] | pass THREADS BATCH TOKENS forward|backward|relp
# Builds each revision (git worktree) into $AB_DIR (default /tmp/relp-ab); prints the medians and the paired ratio B/A.
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 REV_A REV_B SECONDS WORKLOAD..." >&2; exit 2; }
root=$(git rev-parse --show-toplevel) here=$(cd "$(dirname "$0")" && pwd)
out=${AB_DIR:-/tmp/relp-ab}; mkdir -p "$out"
git -C "$root" worktree prune   # a build that failed last time leaves its worktree behind
build() {   # rev -> $out/<sha>/lib
  local sha; sha=$(git -C "$root" rev-parse --short "$1")
  if [ ! -f "$out/$sha/lib/RelpSae.dll" ]; then
    rm -rf "$out/$sha"; git -C "$root" worktree add -q --detach "$out/$sha/src" "$sha"
    dotnet build -c Release "$out/$sha/src/src/RelpSae.Cli" -o "$out/$sha/lib" >/dev/null
    git -C "$root" worktree remove --force "$out/$sha/src"
  fi
  echo "$out/$sha/lib"
}
a=$(build "$1"); b=$(build "$2"); shift 2
dotnet build -c Release "$here/work" -p:LibDir="$a" -o "$out/host" >/dev/null
dotnet build -c Release "$here/host" -o "$out/host" >/dev/null
echo "A = $a, B = $b"
dotnet "$out/host/host.dll" "$a" "$b" "$@"
