#!/usr/bin/env bash
# Screenshots the attribution-graph viewer drawing a graph.json (default: the browser tests' sample graph)
# into a PNG (default: docs/images/graph-viewer.png), in the headless Chromium the browser tests use; a graph
# with a recorded intervention (graph --steer/--clamp/--ablate) is drawn with its nodes coloured by their change.
# Usage: scripts/graph-screenshot.sh [GRAPH.json] [OUT.png]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${2:-$root/docs/images/graph-viewer.png}")"
[ -n "${1:-}" ] && export RELPSAE_GRAPH_JSON="$(realpath "$1")"
export RELPSAE_GRAPH_SCREENSHOT="$out"
mkdir -p "$(dirname "$out")"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet test "$root/tests/RelpSae.Browser.Tests/RelpSae.Browser.Tests.csproj" -c Release -nologo \
  --filter "FullyQualifiedName~GraphViewerTests.ScreenshotOfAGraph" >"$log" 2>&1 || { cat "$log"; exit 1; }
echo "$out"
