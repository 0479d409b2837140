#!/usr/bin/env bash
# Packs the library and the relp-sae .NET tool, installs the tool from the local package into a
# temporary folder, and runs `verify` and `attribute` with the embedded defaults: what a user who
# installs the package gets.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet pack RelpSae.slnx -c Release -o "$work/nupkgs" -v q -nologo
dotnet tool install --tool-path "$work/tool" --add-source "$work/nupkgs" relp-sae >/dev/null
cd "$work"   # away from the repository: the tool must find its embedded model by itself
"$work/tool/relp-sae" verify
"$work/tool/relp-sae" attribute --prompt "The Tower" --top 3
echo "packed tool: ok"
